"""HTTP load benchmark: req/s, p50/p95 and the count of each status at 1, 8, 50 and 200 clients.

Starts ``uvicorn`` on 127.0.0.1 (a free port, ``--workers N``) for each target — a checkout of lotline
with its own ``.venv`` — against one database, and drives ``GET /api/v1/trace/forward/{lot}`` over
random lots with keep-alive connections, one request at a time per client, for a bounded time per
level (``--rounds`` × ``--seconds``, the targets taking turns within each round so that a drift in the
machine's load hits them alike) and a bounded number of requests. Loopback only; it stops by itself.

The ratio columns compare each target with the first one, measured in the same run (the machine is
shared, so only ratios within one run mean anything). "server CPU ms/req" is the CPU time the
server's processes spent per answered request (from /proc), the figure a loaded machine disturbs
least; "db CPU" is that of the PostgreSQL backends connected to the benchmark database (the copy is
the benchmark's own, so they serve only it), "client CPU" that of this process's load generator.
Their sum is what one request costs the machine, and "CPU ceiling" = cores × 1000 / that sum: the
req/s the machine could give if nothing else ran and every core were busy with this work — the
bound that a framework or driver change must move (it needs the server on the same machine).

The database must be writable (a copy: ``CREATE DATABASE bench_x TEMPLATE lotline_bench``): the
script creates a viewer user and an API token in it, and resolving a token notes its last use. It
refuses to run against ``lotline_bench`` itself.

    .venv/bin/python bench/bench_http.py --database-url postgresql://postgres@127.0.0.1:5432/bench_apiload \\
        --target main=/work/wt/apiload-base --target new=. --workers 1,2 --clients 1,8,50,200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from lotline.auth import service as auth_service
from lotline.auth.schemas import TokenIn, UserIn
from lotline.db import engine as engine_mod
from lotline.db import transaction

BENCH_USER = "bench-http"
REQUEST_TIMEOUT = 35.0  # seconds; a request slower than this counts as an error
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_token(url: str) -> str:
    """A fresh token of a viewer made for the benchmark (created once, reused by later runs)."""
    engine_mod.reset_engine(engine_mod.create_engine(url))
    with transaction() as s:
        exists = s.execute(sa.text("SELECT 1 FROM users WHERE name = :n"), {"n": BENCH_USER}).first()
        if not exists:
            auth_service.add_user(s, UserIn(name=BENCH_USER, full_name="HTTP benchmark", roles=["viewer"],
                                            password=None))
            s.flush()
        return auth_service.create_token(s, TokenIn(user=BENCH_USER, name="bench_http")).secret


def sample_lots(url: str, n: int) -> list[str]:
    eng = sa.create_engine(engine_mod.normalize_url(url), poolclass=sa.pool.NullPool)
    with eng.connect() as conn:
        conn.execute(sa.text("SELECT setseed(0.42)"))
        ids = conn.execute(sa.text("SELECT id::text FROM lots ORDER BY random() LIMIT :n"), {"n": n}).scalars().all()
    eng.dispose()
    return list(ids)


class Server:
    """``uvicorn`` of one target on a free loopback port."""

    def __init__(self, name: str, root: Path, url: str, workers: int, env: dict[str, str]):
        self.name, self.port = name, free_port()
        python = root / ".venv" / "bin" / "python"
        cmd = [str(python), "-m", "uvicorn", "lotline.api.app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(self.port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
               # as `lotline serve` (cli/serve.py): uvicorn's 5 s kills slow-starting workers under load
               "--timeout-worker-healthcheck", "30"]
        self.proc = subprocess.Popen(cmd, cwd=root, env={**os.environ, **env, "LOTLINE_DATABASE_URL": url,
                                                        "PYTHONPATH": str(root / "src")})
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"the {name} server did not start") from None
                time.sleep(0.2)

    def cpu_seconds(self) -> float:
        """User + system CPU of the server so far: the uvicorn process and its worker processes."""
        total = 0.0
        pids = [self.proc.pid]
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        for pid in pids:
            total += _cpu_of(pid)
        return total

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class DatabaseCpu:
    """CPU of the PostgreSQL backends connected to one database (local server only, via /proc)."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(engine_mod.normalize_url(url), poolclass=sa.pool.NullPool)
        self.database = make_url(url).database

    def reading(self) -> dict[int, float]:
        with self.engine.connect() as conn:
            pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
                                {"d": self.database}).scalars().all()
        return {pid: _cpu_of(pid) for pid in pids}

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        # a backend opened during the level counts whole; one closed during it is lost (pools keep theirs)
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked); its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _client(port: int, token: str, lots: list[str], offset: int, stop_at: float, max_requests: int,
                  out: list[tuple[float, int | str]]) -> None:
    reader = writer = None
    i = offset
    while time.perf_counter() < stop_at and len(out) < max_requests:
        lot = lots[i % len(lots)]
        i += 1
        request = (f"GET /api/v1/trace/forward/{lot} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {token}\r\n\r\n").encode()
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            assert reader is not None
            status: int | str = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            status = type(exc).__name__
            if writer is not None:
                writer.close()
            reader = writer = None
        out.append((time.perf_counter() - started, status))
    if writer is not None:
        writer.close()


async def _level(port: int, token: str, lots: list[str], clients: int, seconds: float,
                 max_requests: int) -> tuple[float, list[tuple[float, int | str]]]:
    out: list[tuple[float, int | str]] = []
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(_client(port, token, lots, c * 7919, stop_at, max_requests, out) for c in range(clients)))
    return time.perf_counter() - started, out


def run_level(server: Server, token: str, lots: list[str], clients: int, seconds: float, max_requests: int,
              db: DatabaseCpu | None = None) -> dict:
    db_before = db.reading() if db else {}
    cpu, client = server.cpu_seconds(), time.process_time()
    elapsed, out = asyncio.run(_level(server.port, token, lots, clients, seconds, max_requests))
    cpu, client = server.cpu_seconds() - cpu, time.process_time() - client
    db_cpu = DatabaseCpu.spent(db_before, db.reading()) if db else 0.0
    return {"elapsed": elapsed, "out": out, "cpu": cpu, "client_cpu": client, "db_cpu": db_cpu}


def summary(runs: list[dict]) -> dict:
    """Rounds of one level added up: req/s over their total time, percentiles over all requests."""
    out = [o for r in runs for o in r["out"]]
    elapsed = sum(r["elapsed"] for r in runs)
    times = sorted(t for t, _ in out)
    statuses = Counter(s for _, s in out)
    return {
        "requests": len(out),
        "rps": len(out) / elapsed,
        # the server's own CPU per request (all its processes): the figure that a shared, loaded
        # machine disturbs least
        "cpu_ms": sum(r["cpu"] for r in runs) * 1000 / len(out) if out else float("nan"),
        "db_cpu_ms": sum(r["db_cpu"] for r in runs) * 1000 / len(out) if out else float("nan"),
        "client_cpu_ms": sum(r["client_cpu"] for r in runs) * 1000 / len(out) if out else float("nan"),
        "p50": statistics.median(times) * 1000 if times else float("nan"),
        "p95": times[int(0.95 * (len(times) - 1))] * 1000 if times else float("nan"),
        "statuses": statuses,
    }


def ceiling(r: dict, cores: int) -> float:
    """req/s if every core did nothing but this work: cores over one request's CPU (server + db + client)."""
    per_request = r["cpu_ms"] + r["db_cpu_ms"] + r["client_cpu_ms"]
    return cores * 1000 / per_request if per_request > 0 else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", required=True, help="a writable copy of the benchmark database")
    ap.add_argument("--target", action="append", default=[], metavar="NAME=DIR",
                    help="a lotline checkout with its .venv (repeatable; the first is the baseline)")
    ap.add_argument("--workers", default="1,2", help="uvicorn worker counts, comma-separated")
    ap.add_argument("--clients", default="1,8,50,200", help="concurrent client counts, comma-separated")
    ap.add_argument("--seconds", type=float, default=4.0, help="measured time per level, target and round")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds per level; the targets take turns within each (the machine's load drifts)")
    ap.add_argument("--warmup", type=float, default=2.0, help="unmeasured time per server before its levels")
    ap.add_argument("--max-requests", type=int, default=20_000, help="bound on the requests of one level")
    ap.add_argument("--lots", type=int, default=500, help="random lots to trace")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="environment for every server (e.g. LOTLINE_API_CONCURRENCY=8)")
    ap.add_argument("--json", action="store_true", help="print a JSON summary as the last line (bench/run_all.py)")
    args = ap.parse_args()
    if make_url(args.database_url).database == "lotline_bench":
        sys.exit("refusing to write a benchmark token into lotline_bench: use a copy (see the docstring)")
    targets = [(t.partition("=")[0], Path(t.partition("=")[2]).resolve()) for t in args.target or ["new=."]]
    env = dict(e.split("=", 1) for e in args.env)
    load_before = os.getloadavg()[0]
    token = bench_token(args.database_url)
    lots = sample_lots(args.database_url, args.lots)
    db = DatabaseCpu(args.database_url)
    clients = [int(c) for c in args.clients.split(",")]
    results: dict[tuple[str, int, int], dict] = {}
    for workers in (int(w) for w in args.workers.split(",")):
        # every target's server up at once, so that they can take turns level by level
        servers = []
        try:
            for name, root in targets:
                servers.append(Server(name, root, args.database_url, workers, env))
            for server in servers:
                run_level(server, token, lots, 4, args.warmup, args.max_requests)
            for n in clients:
                runs: dict[str, list[dict]] = {name: [] for name, _ in targets}
                for _ in range(args.rounds):
                    for server in servers:
                        runs[server.name].append(run_level(server, token, lots, n, args.seconds,
                                                           args.max_requests, db))
                for name, _ in targets:
                    results[name, workers, n] = r = summary(runs[name])
                    print(f"# {name} workers={workers} clients={n}: {r['rps']:.0f} req/s, p95 {r['p95']:.1f} ms, "
                          f"server CPU {r['cpu_ms']:.2f} ms/req, db {r['db_cpu_ms']:.2f}, client {r['client_cpu_ms']:.2f}, "
                          f"{dict(r['statuses'])}, load {os.getloadavg()[0]:.1f}",
                          file=sys.stderr, flush=True)
        finally:
            for server in servers:
                server.stop()
    base = targets[0][0]
    print(f"\nGET /api/v1/trace/forward/{{lot}} over {len(lots)} random lots; per level {args.rounds} rounds of "
          f"{args.seconds:g} s per target, the targets taking turns; client and servers share this machine's "
          f"{os.cpu_count()} cores; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n")
    cores = os.cpu_count() or 1
    print("| target | workers | clients | requests | req/s | p50 ms | p95 ms | server CPU ms/req | db CPU ms/req | "
          f"client CPU ms/req | CPU ceiling req/s ({cores} cores) | statuses | req/s vs "
          + base + " | p95 vs " + base + " | CPU/req vs " + base + " |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (name, workers, n), r in results.items():
        b = results[base, workers, n]
        statuses = ", ".join(f"{s}×{c}" for s, c in sorted(r["statuses"].items(), key=str))
        print(f"| {name} | {workers} | {n} | {r['requests']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | "
              f"{r['cpu_ms']:.2f} | {r['db_cpu_ms']:.2f} | {r['client_cpu_ms']:.2f} | {ceiling(r, cores):.0f} | {statuses} | {r['rps'] / b['rps']:.2f}× | {r['p95'] / b['p95']:.2f}× | "
              f"{r['cpu_ms'] / b['cpu_ms']:.2f}× |")
    if args.json:
        print(json.dumps({"bench": "http", "figures": [
            {"name": f"GET /trace/forward/{{lot}}, {name}, {workers} worker(s), {n} clients", "value": round(r["rps"], 1),
             "unit": "req/s", "reference": "its p95 ms",
             "reference_value": round(r["p95"], 1), "server_cpu_ms_per_request": round(r["cpu_ms"], 2),
             "db_cpu_ms_per_request": round(r["db_cpu_ms"], 2), "client_cpu_ms_per_request": round(r["client_cpu_ms"], 2),
             "cpu_ceiling_rps": round(ceiling(r, cores), 1), "ratio": round(r["rps"] / 300, 3) if n == 8 else None,
             "goal": ">= 300 req/s, p95 <= 30 ms" if n == 8 else None}
            for (name, workers, n), r in results.items()
        ]}))


if __name__ == "__main__":
    main()
