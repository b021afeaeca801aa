"""Runs the benchmarks and writes bench/results/<mode>.json: `python -m bench.run quick|full`.

Every figure is taken in the same run as its floor and stored beside it with their ratio, and each
section records the load average before it ran: on a shared machine the bare times drift, the ratios
much less. `make bench` is the quick run (10k acts, SQLite and PostgreSQL); `make bench-full` adds
100k and 1M acts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from api.bootstrap import Runtime, bootstrap
from bench import paths
from bench.generate import DEFAULT_SEED, Generator, parse_size, size_label
from bench.loadgen import Server, peak_rss_mib, requests_per_second, sequential_latency, sse_fanout
from bench.machine import describe, load_average
from bench.stats import ratio, timed
from bench.stores import BACKENDS, Workspace, workspace

RESULTS = Path(__file__).parent / "results"
DEFAULT_PG = os.environ.get("DIPLO_BENCH_DATABASE_URL",
                            os.environ.get("DIPLO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))


@dataclass(frozen=True)
class Config:
    mode: str
    sizes: tuple[int, ...]
    backends: tuple[str, ...]
    stance_queries: int
    naive_full_queries: int
    http_requests: int
    wrk_seconds: int
    wrk_connections: int
    sse_subscribers: int
    sse_events: int
    http_sizes: tuple[int, ...]  # the sizes at which the server is measured (the largest, by default)
    rebuild_in_process: bool  # also Projector.catch_up in this process, into a fresh store (full run)
    one_by_one_max: int = 10_000  # the one-transaction-per-command import, for context, up to this size


def configure(mode: str, sizes: list[str] | None, backends: list[str] | None) -> Config:
    if mode == "quick":
        chosen = tuple(parse_size(s) for s in (sizes or ["10k"]))
        return Config(mode, chosen, tuple(backends or BACKENDS), stance_queries=1000, naive_full_queries=3,
                      http_requests=300, wrk_seconds=4, wrk_connections=16, sse_subscribers=1000, sse_events=3,
                      http_sizes=(max(chosen),), rebuild_in_process=False)
    chosen = tuple(parse_size(s) for s in (sizes or ["10k", "100k", "1m"]))
    return Config(mode, chosen, tuple(backends or BACKENDS), stance_queries=1000, naive_full_queries=3,
                  http_requests=1000, wrk_seconds=10, wrk_connections=16, sse_subscribers=1000, sse_events=5,
                  http_sizes=(max(chosen),), rebuild_in_process=True)


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')} load {' '.join(map(str, load_average()))}] {message}",
          file=sys.stderr, flush=True)


def section(results: dict[str, Any], name: str, run: Callable[[], Any]) -> Any:
    """Runs one benchmark, recording the load average before it and how long it took."""
    log(f"{name} ...")
    before = load_average()
    with timed() as watch:
        value = run()
    if isinstance(value, dict):
        value = {**value, "load_average_before": before, "wall_seconds": round(watch.seconds, 2)}
    results[name] = value
    gc.collect()
    return value


# -- the projector process and the code-only floor of memory ------------------------------------------


def projector_process(rt: Runtime, ws: Workspace, log_dir: Path) -> dict[str, Any]:
    """`diplo project` from position 0 to the head in its own process; its peak RSS when caught up.

    The rate is clocked from the moment it says it starts projecting (after its imports and
    bootstrap) to the moment every read model's tracking position reaches the head."""
    head = rt.projector.head()
    log_path = log_dir / "projector.log"
    out = log_path.open("w")
    launched = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "project"],
                               env={**os.environ, **ws.env, "DIPLO_PROJECTOR": "external", "PYTHONUNBUFFERED": "1"},
                               stdout=out, stderr=subprocess.STDOUT)
    started: float | None = None
    try:
        deadline = launched + 6 * 3600
        while True:
            if started is None and "projecting from" in log_path.read_text():
                started = time.perf_counter()
            if rt.projector.position() >= head:
                break
            if process.poll() is not None:
                raise RuntimeError(f"diplo project exited: {log_path.read_text()[-2000:]}")
            if time.perf_counter() > deadline:
                raise RuntimeError("diplo project did not catch up in 6 hours")
            time.sleep(0.05)
        done = time.perf_counter()
        peak = peak_rss_mib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)
        out.close()
    seconds = done - (started or launched)
    return {"events": head, "seconds": round(seconds, 3), "events_per_s": round(head / seconds, 1),
            "seconds_including_start": round(done - launched, 2), "peak_rss_mib": peak}


def code_only_rss_mib() -> float | None:
    """The floor of memory: a process that has imported and wired the same code, holding no data."""
    done = subprocess.run(
        [sys.executable, "-c",
         "import api.app, api.cli, projections.projector, domain.service, uvicorn\n"
         "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))"],
        capture_output=True, text=True, check=True,
    )
    return round(int(done.stdout.strip()) / 1024, 1)


# -- the HTTP benchmarks ------------------------------------------------------------------------------


def _stance_paths(rt: Runtime, n: int, prefix: str, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    with rt.store.reading() as sql:
        parties = sorted(r["party"] for r in sql.rows("SELECT DISTINCT party FROM stance_acts"))
    first = date(1995, 1, 1)
    return [f"{prefix}/parties/{rng.choice(parties)}/stances?at={first + timedelta(days=rng.randrange(11000))}"
            for _ in range(n)]


def _one_pair_paths(rt: Runtime, n: int, seed: int = 7) -> list[str]:
    """A party's stance on one declaration at a date: `?declaration=` (the engine's stance_of)."""
    rng = random.Random(seed)
    with rt.store.reading() as sql:
        pairs = [(r["party"], r["declaration_id"]) for r in sql.rows(
            "SELECT DISTINCT party, declaration_id FROM stance_acts ORDER BY party, declaration_id")]
    first = date(1995, 1, 1)
    paths = []
    for _ in range(n):
        party, declaration = rng.choice(pairs)
        paths.append(f"/v1/parties/{party}/stances?declaration={declaration}"
                     f"&at={first + timedelta(days=rng.randrange(11000))}")
    return paths


def _signatory_paths(rt: Runtime, n: int, seed: int = 6) -> list[str]:
    rng = random.Random(seed)
    with rt.store.reading() as sql:
        slugs = sorted(r["declaration_id"] for r in sql.rows("SELECT declaration_id FROM stance_declarations"))
    first = date(1995, 1, 1)
    return [f"/v1/declarations/{rng.choice(slugs)}/signatories?at={first + timedelta(days=rng.randrange(11000))}"
            for _ in range(n)]


def http_benchmarks(rt: Runtime, ws: Workspace, config: Config, log_dir: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    stance_paths = _stance_paths(rt, config.http_requests, "/v1")
    bare_paths = [p.replace("/v1/", "/bare/", 1) for p in stance_paths]
    signatory_paths = _signatory_paths(rt, config.http_requests)
    head = rt.projector.head()
    # The fan-out opens its 1,000 subscribers from one loopback address: above the per-address stream limit.
    streams = str(config.sse_subscribers + 100)
    # The chain's tail is checked at start, but not the whole chain in the background: at 1M events that walk
    # would take a core while the HTTP figures are taken (its own speed is `diplo verify`'s, docs/reliability.md).
    api_env = {**ws.env, "DIPLO_STREAM_HEARTBEAT_SECONDS": "30", "DIPLO_MAX_STREAMS": streams,
               "DIPLO_MAX_STREAMS_PER_CLIENT": streams, "DIPLO_CHAIN_CHECK": "tail"}
    one_pair_paths = _one_pair_paths(rt, config.http_requests)
    families = {"stances": stance_paths, "signatories": signatory_paths, "one_pair": one_pair_paths}
    with Server("api", api_env, "/healthz", log_dir) as api:
        # The floor of each kind of read also sends, as ready bytes, the very answers the engine gave (as the roll
        # call's floor does, bench/unga.py): what is left between them is the engine's work, not the bytes' size.
        with httpx.Client(base_url=api.base, timeout=60) as client:
            answers = {name: [client.get(path).text for path in paths] for name, paths in families.items()}
        answers_file = log_dir / "answers.json"
        answers_file.write_text(json.dumps(answers), encoding="utf-8")
        with Server("bare", {"DIPLO_BENCH_ANSWERS": str(answers_file)}, "/bare/subscribers", log_dir) as bare:
            _http_against(found, config, api, bare, rt.store.reads_at_once, stance_paths, bare_paths, families, head)
    # The A/B of the lean routes (api/lean_routes.py): the one-pair question through FastAPI's own handler, same
    # store, same uvicorn settings, once the server above has stopped (against the bare figures of this run).
    rps = found["requests_per_second"]
    log("  http: one pair through FastAPI's standard handler (DIPLO_LEAN_ROUTES=false)")
    with Server("api", {**api_env, "DIPLO_LEAN_ROUTES": "false"}, "/healthz", log_dir) as standard:
        sequential_latency(standard.base, stance_paths[:50])
        rps["one_pair_standard_handler"] = requests_per_second(
            standard.base, one_pair_paths, seconds=config.wrk_seconds, connections=config.wrk_connections)
    if rps["bare"]["generator"] == "wrk":
        rps["ratio_one_pair_standard_handler"] = ratio(rps["one_pair_standard_handler"]["ok_per_s"],
                                                       rps[rps["floor_of"]["one_pair"]]["ok_per_s"])
        rps["ratio_one_pair_standard_handler_same_answers"] = ratio(
            rps["one_pair_standard_handler"]["ok_per_s"], rps["bare_same_answers"]["one_pair"]["ok_per_s"])
    return found


def _http_against(found: dict[str, Any], config: Config, api: Server, bare: Server, reads_at_once: bool,
                  stance_paths: list[str], bare_paths: list[str], families: dict[str, list[str]], head: int) -> None:
    """The HTTP figures, against the bare floors, with both servers up."""
    found["server"] = {"uvicorn": "127.0.0.1, one worker, log_level=warning, access_log=False, backlog=4096"}
    log("  http: stance latency, one request at a time")
    found["stance_latency"] = {"api": sequential_latency(api.base, stance_paths),
                               "bare": sequential_latency(bare.base, bare_paths)}
    found["stance_latency"]["ratio_p50"] = ratio(found["stance_latency"]["api"]["p50_ms"],
                                                 found["stance_latency"]["bare"]["p50_ms"])
    log("  http: requests per second")
    rps: dict[str, Any] = {"bare": requests_per_second(bare.base, bare_paths, seconds=config.wrk_seconds,
                                                       connections=config.wrk_connections)}
    rps["stances"] = requests_per_second(api.base, stance_paths, seconds=config.wrk_seconds,
                                         connections=config.wrk_connections)
    rps["signatories"] = requests_per_second(api.base, families["signatories"], seconds=config.wrk_seconds,
                                             connections=config.wrk_connections)
    rps["one_pair"] = requests_per_second(api.base, families["one_pair"],
                                          seconds=config.wrk_seconds, connections=config.wrk_connections)
    rps["bare_async"] = requests_per_second(bare.base, [p.replace("/bare/", "/bare/async/", 1) for p in bare_paths],
                                            seconds=config.wrk_seconds, connections=config.wrk_connections)
    rps["bare_same_answers"] = {
        name: requests_per_second(bare.base, [f"/bare/answers/{name}/{k}" for k in range(len(paths))],
                                  seconds=config.wrk_seconds, connections=config.wrk_connections)
        for name, paths in families.items()}
    measured = rps["bare"]["generator"] == "wrk"
    if not measured:
        rps["not_measured"] = "wrk is not installed: the Python load generator, not the server, sets the pace"
    # Each read against the bare endpoint of its shape: a plain `def` (a trip through the thread pool, as FastAPI
    # runs our routes), or `async def` for the one pair on SQLite, answered on the event loop (api/lean_routes.py).
    rps["floor_of"] = {name: "bare_async" if name == "one_pair" and reads_at_once else "bare"
                       for name in ("stances", "signatories", "one_pair")}
    for name in ("stances", "signatories", "one_pair"):
        # only good answers count: an error answered fast is no read served; and a ratio whose floor is bounded
        # by the load generator says nothing of the server (it read 0.96 "met" where wrk measured 0.42)
        floor = rps[rps["floor_of"][name]]
        rps[f"ratio_{name}"] = ratio(rps[name]["ok_per_s"], floor["ok_per_s"]) if measured else None
        rps[f"ratio_{name}_to_def"] = ratio(rps[name]["ok_per_s"], rps["bare"]["ok_per_s"]) if measured else None
        rps[f"ratio_{name}_same_answers"] = (ratio(rps[name]["ok_per_s"], rps["bare_same_answers"][name]["ok_per_s"])
                                             if measured else None)
    found["requests_per_second"] = rps
    log(f"  http: one event to {config.sse_subscribers} SSE subscribers (bare)")

    async def bare_trigger(client: httpx.AsyncClient, k: int) -> int:
        await client.post("/bare/publish", json={"position": k + 1, "kind": "signed", "data": {"party": "EU"}})
        return k + 1

    sse: dict[str, Any] = {"bare": sse_fanout(bare.base, "/bare/stream", bare_trigger,
                                              subscribers=config.sse_subscribers, events=config.sse_events)}
    log(f"  http: one act to {config.sse_subscribers} SSE subscribers (api)")

    async def act_trigger(client: httpx.AsyncClient, k: int) -> int:
        # EU never acts in the generated data: sign, withdraw, sign, ... on the first declaration.
        response = await client.post(
            "/v1/declarations/declaration-0001/acts", headers={"Authorization": "Bearer bench-token"},
            json={"kind": "signed" if k % 2 == 0 else "withdrawn", "party": "EU",
                  "occurred_on": (date(2025, 7, 1) + timedelta(days=k)).isoformat(), "confidence": "high",
                  "sources": [{"title": "bench", "url": "https://example.org/bench"}]},
        )
        response.raise_for_status()
        return int(response.json()["position"])

    sse["api"] = sse_fanout(api.base, f"/v1/events/stream?after={head}", act_trigger,
                            subscribers=config.sse_subscribers, events=config.sse_events)
    sse["ratio_p99"] = ratio(sse["api"].get("p99_ms"), sse["bare"].get("p99_ms"))
    found["sse_fanout"] = sse
    found["peak_rss_mib"] = {"api": api.peak_rss_mib(), "bare": bare.peak_rss_mib()}


# -- one backend at one size ----------------------------------------------------------------------------


def run_one(backend: str, size: int, config: Config, root: Path, postgres_url: str,
            commands: list[dict[str, Any]]) -> dict[str, Any]:
    results: dict[str, Any] = {"backend": backend, "size": size, "label": size_label(size)}
    with workspace(backend, root, postgres_url) as ws:
        log_dir = ws.directory / "logs"
        log_dir.mkdir()
        rt = bootstrap(ws.settings, start_projector=False, follow=False)
        try:
            section(results, "import_service", lambda: paths.bulk_import(rt, commands, ws, log))
            section(results, "import_floor", lambda: paths.import_floor(ws))
            results["import_ratio"] = ratio(results["import_service"]["events_per_s"],
                                            results["import_floor"]["floor_rows_per_s"])
            if size <= config.one_by_one_max:
                section(results, "import_one_by_one", lambda: paths.import_one_by_one(
                    commands, backend, root, postgres_url, log))
            if paths.diplo_import_available():
                section(results, "diplo_import", lambda: paths.diplo_import(rt, ws, root, postgres_url))
            else:
                results["diplo_import"] = {"available": False}
            section(results, "rebuild_floor", lambda: paths.read_floors(rt, ws))
            stance_store = rt.store
            if config.rebuild_in_process:
                rebuilt: dict[str, Any] = {}

                def do_rebuild() -> dict[str, Any]:
                    value, rebuilt["store"] = paths.rebuild(rt, ws)
                    return value

                section(results, "rebuild", do_rebuild)
                stance_store = rebuilt["store"]
            pp = section(results, "projector_process", lambda: projector_process(rt, ws, log_dir))
            if not config.rebuild_in_process:
                # the quick run rebuilds once: Projector in `diplo project`, into the empty default store
                results["rebuild"] = {"events": pp["events"], "seconds": pp["seconds"],
                                      "events_per_s": pp["events_per_s"], "page_size": rt.settings.page_size,
                                      "how": "diplo project from position 0, clocked from its first page"}
            results["rebuild_ratio"] = ratio(results["rebuild"]["events_per_s"],
                                             results["rebuild_floor"]["floor_events_per_s"])
            section(results, "stance_in_process", lambda: paths.stance_in_process(
                rt, ws, stance_store, queries=config.stance_queries,
                naive_full=config.naive_full_queries if size <= 100_000 else 1))
            if size in config.http_sizes:
                section(results, "http", lambda: http_benchmarks(rt, ws, config, log_dir))
            if stance_store is not rt.store:
                stance_store.close()
        finally:
            rt.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("quick", "full"))
    parser.add_argument("--sizes", nargs="*", help="acts per run: 10k 100k 1m (default: quick 10k, full all)")
    parser.add_argument("--backends", nargs="*", choices=BACKENDS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--workdir", type=Path, default=Path("var/bench"))
    parser.add_argument("--out", type=Path, help="results file (default bench/results/<mode>.json)")
    args = parser.parse_args(argv)
    # Stopped with SIGTERM, still drop the run's schemas and files (the workspaces' finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    config = configure(args.mode, args.sizes, args.backends)
    out = args.out or RESULTS / f"{args.mode}.json"
    started = datetime.now(UTC)
    document: dict[str, Any] = {
        "mode": config.mode, "seed": args.seed, "started_at": started.isoformat(timespec="seconds"),
        "machine": describe(args.postgres_url if "postgres" in config.backends else None),
        "config": {k: v for k, v in vars(config).items()}, "code_only_rss_mib": code_only_rss_mib(), "runs": [],
    }
    log(f"{config.mode}: sizes {config.sizes} on {config.backends}; results to {out}")
    generated = {}
    for size in config.sizes:
        with timed() as watch:
            generator = Generator(size, args.seed)
            generated[size] = (list(generator), generator.stats.as_dict())
        log(f"generated {len(generated[size][0])} commands for {size} acts in {watch.seconds:.1f} s")
    # The generated commands (a million dicts at 1M) are the harness's, not the engine's: out of the cyclic
    # collector's sight, so its full collections do not tax the paths measured in this process. Without
    # this, the in-process rebuild ran at 0.7 of `diplo project`'s rate on the same 100k events (full run).
    gc.collect()
    gc.freeze()
    for backend in config.backends:  # one backend's sizes together: the flatness ratios compare them
        for size in config.sizes:
            commands, stats = generated[size]
            log(f"== {backend}, {size_label(size)} acts")
            run = run_one(backend, size, config, args.workdir.resolve(), args.postgres_url, commands)
            run["generated"] = stats
            document["runs"].append(run)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(document, indent=1) + "\n")  # a long run keeps what it has measured
            gc.collect()
    document["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    document["load_average_at_end"] = load_average()
    out.write_text(json.dumps(document, indent=1) + "\n")
    log(f"done in {(datetime.now(UTC) - started).total_seconds():.0f} s; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
