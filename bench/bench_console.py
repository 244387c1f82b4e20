"""Console speed on the benchmark data: lot page server time, lot search, trace view to a drawn graph.

    # a writable copy with a user (the console needs a signed-in user; a session is a row):
    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE bench_console TEMPLATE lotline_bench'
    echo "$PASSWORD" | LOTLINE_DATABASE_URL=…/bench_console lotline user add bench --role viewer --password-stdin
    echo "$PASSWORD" | .venv/bin/python bench/bench_console.py --database-url …/bench_console --user bench --password-stdin
    # or read-only, on lotline_bench itself:
    .venv/bin/python bench/bench_console.py --database-url postgresql://postgres@127.0.0.1:5432/lotline_bench

- lot page: GET /lots/{id} of the most-used lot, in-process (httpx ASGI transport), server time only.
- search: GET /lots/search?q=… for prefixes of lot codes, customers and orders (p50/p95).
- trace view: a live uvicorn + headless chromium; navigation start → the graph drawn on its canvas
  (``#graph[data-drawn]``, set on cytoscape's first render after the layout), for the most-used lot's
  forward trace; with the page's own marks: page served, scripts ready, laid out, drawn.
  Baseline in the same run: the trace engine alone on the same lot.
With ``--user`` the bench signs in for real (POST /signin, in the test client and in the browser) and
the server is its own process. Without it nothing is written: the app runs in this process with the
console's one identity seam (``web.session.principal``) answering a fixed viewer, every request a GET.
On a database older than the audit trail the lot page's status-history lookup is answered empty and
the search's vendor-lot probe is left out; both are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

import sqlalchemy as sa

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# the page's own performance marks (web/static/trace.js), read after each load
MARKS = """() => { const nav = performance.getEntriesByType('navigation')[0]; const o = {served: nav.responseEnd};
  for (const e of performance.getEntriesByType('mark')) o[e.name.replace('lotline:', '')] = e.startTime;
  o.drawn = Number(document.getElementById('graph').dataset.drawn) - performance.timeOrigin; return o; }"""


def _ms(samples: list[float]) -> tuple[float, float, float]:
    s = sorted(samples)
    return statistics.median(s), s[max(0, int(len(s) * 0.95) - 1)], s[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_up(base_url: str) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(base_url + "/api/v1/health", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the console server did not start")


def _serve(app_factory, database_url: str, in_process: bool):
    """(base url, stop): uvicorn in its own process, or in a thread of this one (fixed principal)."""
    import uvicorn

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    if in_process:
        server = uvicorn.Server(uvicorn.Config(app_factory(), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        _wait_up(base_url)

        def stop() -> None:
            server.should_exit = True
            thread.join(timeout=10)

        return base_url, stop
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "lotline.api.app:create_app", "--factory", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            env={**os.environ, "LOTLINE_DATABASE_URL": database_url})
    _wait_up(base_url)

    def stop_process() -> None:
        proc.terminate()
        proc.wait(timeout=10)

    return base_url, stop_process


def main() -> None:  # noqa: C901 — a benchmark script: one linear sequence of measured steps
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--user", help="sign in as this user (a writable copy: a session is a row)")
    ap.add_argument("--password-stdin", action="store_true", help="read --user's password from stdin")
    ap.add_argument("--json", action="store_true", help="print a JSON summary as the last line (bench/run_all.py)")
    args = ap.parse_args()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else os.environ.get("LOTLINE_BENCH_PASSWORD")
    if args.user and not password:
        raise SystemExit("--user needs its password: --password-stdin or LOTLINE_BENCH_PASSWORD")
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
    print(f"most-used lot {code} ({lot_id}); lot_search_keys present: {has_keys}; audit_log present: {has_audit}; "
          + (f"signed in as {args.user}" if args.user else "read-only (fixed viewer, no sign-in)"))

    from fastapi.testclient import TestClient

    from lotline.api.app import create_app
    from lotline.audit import service as audit
    from lotline.auth.service import Principal
    from lotline.web import session as web_session

    if not args.user:
        viewer = Principal("bench", "Bench Viewer", frozenset({"viewer"}), "session", csrf_token="-")

        async def fixed_principal(_request):
            return viewer

        web_session.principal = fixed_principal
    if not has_audit:
        audit.lot_status_history = lambda _s, _lot_id: []

    client = TestClient(create_app(), base_url="https://127.0.0.1")
    if args.user:
        r = client.post("/signin", data={"username": args.user, "password": password, "next": "/"},
                        follow_redirects=False)
        assert r.status_code == 303, f"sign-in refused: {r.status_code} {r.text[:300]}"

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
    # on top of it is graph grouping and layout, tables and HTML, and the browser's drawing)
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
    from playwright.sync_api import sync_playwright

    base_url, stop = _serve(create_app, args.database_url, in_process=not args.user)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            pg = b.new_context(viewport={"width": 1280, "height": 800}).new_page()
            if args.user:
                pg.goto(base_url + "/signin")
                pg.get_by_label("User name").fill(args.user)
                pg.get_by_label("Password").fill(password or "")
                pg.get_by_role("button", name="Sign in").click()
                pg.wait_for_url(base_url + "/")
            loads = []
            status = ""
            for _ in range(max(3, args.repeat // 4) + 1):
                pg.goto(f"{base_url}/trace/{lot_id}")
                pg.wait_for_selector("#graph[data-drawn]", timeout=60_000)
                loads.append(pg.evaluate(MARKS))
                status = pg.inner_text("#graph-status")
            b.close()
    finally:
        stop()
    loads = loads[1:]  # the first load fills the browser's cache
    engine = _ms(engine_ms)[0]
    print(f"\nbaseline, same run: trace engine alone (forward, no stock) p50 {engine:.0f} ms")
    print("| trace view of the most-used lot, from navigation start | p50 ms | max ms | × engine p50 |")
    print("|---|---:|---:|---:|")
    steps = [("page served (response end)", "served"), ("scripts ready", "scripts-ready"),
             ("laid out", "laid-out"), ("graph drawn", "drawn")]
    for name, key in steps:
        xs = [x[key] for x in loads if key in x]
        if xs:
            print(f"| {name} | {statistics.median(xs):.0f} | {max(xs):.0f} | {statistics.median(xs) / engine:.1f}× |")
    print(f"({len(loads)} loads) — {status}")
    if args.json:
        drawn = [x["drawn"] for x in loads if "drawn" in x]
        figures = [{"name": "console lot page, most-used lot", "value": round(_ms(page)[1], 1), "unit": "ms p95",
                    "reference": None, "reference_value": None, "ratio": None, "goal": "<= 150 ms p95"}]
        if drawn:
            figures.append({"name": "console trace view, most-used lot, to a drawn graph",
                            "value": round(statistics.median(drawn)), "unit": "ms p50",
                            "reference": "trace engine alone p50", "reference_value": round(engine),
                            "ratio": round(statistics.median(drawn) / engine, 2), "goal": "<= 1000 ms"})
        print(json.dumps({"bench": "console", "figures": figures}))


if __name__ == "__main__":
    main()
