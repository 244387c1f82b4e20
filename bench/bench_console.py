"""Console speed on the benchmark data (read-only): lot page server time, lot search, trace view to a drawn graph.

    .venv/bin/python bench/bench_console.py --database-url postgresql://postgres@127.0.0.1:5432/lotline_bench

- lot page: GET /lots/{id} of the most-used lot, in-process (httpx ASGI transport), server time only;
  baseline in the same run: the JSON API's GET /api/v1/lots/{id} of the same lot.
- search: GET /lots/search?q=… for prefixes of lot codes, customers and orders (p50/p95).
- trace view: a live uvicorn + headless chromium; navigation start → the graph's layout finished
  (``#graph[data-drawn]``), for the most-used lot's forward trace.
Never writes: lotline_bench is shared and read-only, so the bench cannot open auth sessions there
(a session is a row). It runs the app in its own process with the console's one identity seam
(``web.session.principal``) answering a fixed viewer, and every request is a GET. On a database
older than the audit trail (lotline_bench is at 0020) the lot page's status-history lookup is
answered empty and the search's vendor-lot probe is left out; both are printed.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time
import urllib.request

import sqlalchemy as sa

VIEWER = None  # the fixed principal (set in main)


def _ms(samples: list[float]) -> tuple[float, float, float]:
    s = sorted(samples)
    return statistics.median(s), s[max(0, int(len(s) * 0.95) - 1)], s[-1]


def main() -> None:  # noqa: C901 — a benchmark script: one linear sequence of measured steps
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    os.environ["LOTLINE_DATABASE_URL"] = args.database_url
    eng = sa.create_engine(args.database_url.replace("postgresql://", "postgresql+psycopg://"))
    with eng.connect() as c:
        # the most-used raw lot of `lotline generate --scale 1000 --seed 7` (README), else the lot with most children
        row = c.execute(sa.text("SELECT l.id, l.lot_code FROM lots l JOIN items i ON i.id = l.item_id "
                                "WHERE i.sku = 'SALT' AND l.lot_code = 'R0019252'")).first()
        lot_id, code = row or c.execute(sa.text(
            "SELECT l.id, l.lot_code FROM lots l JOIN lot_genealogy_edges e ON e.parent_lot_id = l.id "
            "GROUP BY l.id ORDER BY count(*) DESC LIMIT 1")).one()
        has_keys = c.execute(sa.text("SELECT to_regclass('lot_search_keys') IS NOT NULL")).scalar()
        has_audit = c.execute(sa.text("SELECT to_regclass('audit_log') IS NOT NULL")).scalar()
    print(f"most-used lot {code} ({lot_id}); lot_search_keys present: {has_keys}; audit_log present: {has_audit}")

    from fastapi.testclient import TestClient

    from lotline.api.app import create_app
    from lotline.audit import service as audit
    from lotline.auth.service import Principal
    from lotline.web import session as web_session

    viewer = Principal("bench", "Bench Viewer", frozenset({"viewer"}), "session", csrf_token="-")

    async def fixed_principal(_request):
        return viewer

    web_session.principal = fixed_principal
    if not has_audit:
        audit.lot_status_history = lambda _s, _lot_id: []

    client = TestClient(create_app(), base_url="https://127.0.0.1")

    def timed(path: str, n: int) -> list[float]:
        out = []
        for _ in range(n):
            t = time.perf_counter()
            r = client.get(path)
            out.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200 and "/signin" not in str(r.url), (path, r.status_code, r.url, r.text[:300])
        return out

    rows = []
    # baseline for the trace view, same run: the trace engine alone on the same lot (what the page adds
    # on top of it is graph grouping, tables and HTML)
    from lotline import db
    from lotline.trace import service as trace_service

    engine_ms = []
    for _ in range(5):
        with db.read_snapshot() as s:
            t0 = time.perf_counter()
            trace_service.trace(s, [lot_id], "forward", None, None, with_stock=False)
            engine_ms.append((time.perf_counter() - t0) * 1000)
    timed(f"/lots/{lot_id}", 2)
    page = timed(f"/lots/{lot_id}", args.repeat)
    api = None  # the JSON API needs a token, i.e. a users table: not on a read-only pre-auth database
    rows.append(("lot page GET /lots/{id} (most-used lot)", page))
    if api:
        rows.append(("baseline: JSON API GET /api/v1/lots/{id}", api))
    terms = ["R00192", "R0019", "C0012", "C01", "SO0000012", "SO00001", "FG", "zzz", "V0044-19", "V00"]
    search = []
    if has_keys:
        for _ in range(max(1, args.repeat // 4)):
            for t in terms:
                search += timed(f"/lots/search?q={t}", 1)
        rows.append((f"lot search as you type, GET /lots/search ({len(terms)} prefixes)", search))
    else:
        # A read-only database without migration 0027: time the search statement itself, with the
        # vendor-lot-key probe (an index range scan of a table of received lots) left out.
        from lotline.db import local_settings, sql

        text = sql.load_sql("lotline.web", "search").replace(
            "FROM lot_search_keys", "FROM (SELECT NULL::uuid AS lot_id, NULL::text AS key WHERE false) absent")
        for _ in range(max(1, args.repeat // 4)):
            for t in terms:
                with db.read_snapshot() as s, local_settings(s, jit="off"):
                    t0 = time.perf_counter()
                    sql.rows(s, text, {"terms": [t], "limit": 50})
                    search.append((time.perf_counter() - t0) * 1000)
        rows.append((f"lot search statement ({len(terms)} prefixes; no lot_search_keys here: that probe left out)", search))

    print("| what | p50 ms | p95 ms | max ms | vs baseline p50 |")
    print("|---|---:|---:|---:|---:|")
    base = _ms(api)[0] if api else None
    for name, samples in rows:
        p50, p95, mx = _ms(samples)
        ratio = f"{p50 / base:.1f}×" if base else ""
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {mx:.1f} | {ratio} |")

    # trace view in a real browser
    import threading

    import uvicorn
    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base_url + "/api/v1/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            ctx = b.new_context(viewport={"width": 1280, "height": 800})
            pg = ctx.new_page()
            drawn, served = [], []
            status = ""
            for _ in range(max(3, args.repeat // 4)):
                pg.goto(f"{base_url}/trace/{lot_id}")
                pg.wait_for_selector("#graph[data-drawn]", timeout=60_000)
                drawn.append(pg.evaluate(
                    "() => Number(document.getElementById('graph').dataset.drawn) - performance.timeOrigin"))
                served.append(pg.evaluate("() => performance.getEntriesByType('navigation')[0].responseEnd"))
                status = pg.inner_text("#graph-status")
            b.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    p50, p95, mx = _ms(drawn)
    print(f"\nbaseline, same run: trace engine alone (forward, no stock) p50 {_ms(engine_ms)[0]:.0f} ms")
    print(f"trace view page served (navigation start → response end): p50 {_ms(served)[0]:.0f} ms "
          f"({_ms(served)[0] / _ms(engine_ms)[0]:.1f}× the engine)")
    print(f"trace view, most-used lot forward, navigation start → graph drawn: p50 {p50:.0f} ms "
          f"({p50 / _ms(engine_ms)[0]:.1f}× the engine), max {mx:.0f} ms "
          f"({len(drawn)} loads) — {status}")


if __name__ == "__main__":
    main()
