"""How states align, at the speed of the machine (issue 18): `python -m bench.alignment`.

On the General Assembly's whole record (both `unvotes` releases: 6,203 roll calls, 870,109 votes), each question
asked over HTTP of a running API (`bench.serve`, warm: every path asked once untimed first), one request at a time,
beside the same question in bare SQL on the same store, asked in the same run:
- one pair by year over 1946-2019 (`GET /v1/agreement?a&b&by=year&from=1946-01-01&to=2019-12-31`; target 50 ms);
- a party's vote shares by year (`GET /v1/parties/{code}/vote-share?by=year`; target 50 ms);
- closest-and-farthest for one party and one year (`GET /v1/parties/{code}/closest?period=YYYY`; target 200 ms).
Each question is also timed in process (the read alone, no HTTP), and the server's CPU per request is read from
/proc: on a shared machine the wall clock counts other people's work too. The floor is the one aggregate query a
hand-written answer would run (current votes only, no knowledge time, no lines, no periods without joint votes).

Results go to bench/results/alignment.json with the machine's description; docs/benchmarks.md quotes them.
A store is loaded for each backend unless one is named (`--sqlite-dir`, `--postgres-schema`: a store already
holding the record, left as it is).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
DEFAULT_PG = os.environ.get("DIPLO_BENCH_DATABASE_URL",
                            os.environ.get("DIPLO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
TARGETS_MS = {"pair_by_year": 50, "vote_shares_by_year": 50, "closest_one_year": 200}
CAST = "('abstain', 'no', 'yes')"
COUNTS = ("COUNT(*), SUM(CASE WHEN a.vote = b.vote THEN 1 ELSE 0 END),"
          " SUM(CASE WHEN a.vote <> b.vote AND (a.vote = 'abstain' OR b.vote = 'abstain') THEN 1 ELSE 0 END),"
          + ",".join(f" SUM(CASE WHEN {s}.vote = '{v}' THEN 1 ELSE 0 END)" for s in "ab" for v in ("yes", "no",
                                                                                                  "abstain")))
# The same questions, as a hand-written answer would ask them of the votes table.
FLOORS = {
    "pair_by_year": (f"SELECT SUBSTR(a.date, 1, 4), {COUNTS} FROM votes a JOIN votes b ON b.rc_key = a.rc_key"
                     f" AND b.party = ? AND b.seen_to IS NULL WHERE a.party = ? AND a.seen_to IS NULL"
                     f" AND a.date BETWEEN '1946-01-01' AND '2019-12-31' AND a.vote IN {CAST} AND b.vote IN {CAST}"
                     " GROUP BY SUBSTR(a.date, 1, 4)"),
    "vote_shares_by_year": ("SELECT SUBSTR(v.date, 1, 4), v.vote, COUNT(*) FROM votes v WHERE v.party = ?"
                            f" AND v.seen_to IS NULL AND v.vote IN {CAST} GROUP BY SUBSTR(v.date, 1, 4), v.vote"),
    "closest_one_year": (f"SELECT b.party, {COUNTS} FROM votes a JOIN votes b ON b.rc_key = a.rc_key"
                         " AND b.seen_to IS NULL AND b.party <> ? WHERE a.party = ? AND a.seen_to IS NULL"
                         f" AND a.date BETWEEN ? AND ? AND a.vote IN {CAST} AND b.vote IN {CAST} GROUP BY b.party"),
}


def _runtime(env: dict[str, str]) -> Any:
    os.environ.update(env)
    from api.bootstrap import bootstrap
    from api.settings import Settings

    return bootstrap(Settings(), start_projector=False, follow=False)


def _questions(env: dict[str, str], count: int) -> dict[str, list[dict[str, Any]]]:
    """The questions, drawn once (seed 18) from the parties and years the record holds."""
    runtime = _runtime(env)
    try:
        with runtime.store.reading() as sql:
            busy = sorted(r["party"] for r in sql.rows(
                f"SELECT party FROM votes v WHERE v.seen_to IS NULL AND v.vote IN {CAST} GROUP BY party"
                " HAVING COUNT(*) >= 3000"))
            years = [(r["party"], r["year"]) for r in sql.rows(
                f"SELECT v.party, SUBSTR(v.date, 1, 4) AS year FROM votes v WHERE v.seen_to IS NULL"
                f" AND v.vote IN {CAST} GROUP BY v.party, SUBSTR(v.date, 1, 4) HAVING COUNT(*) >= 20")]
    finally:
        runtime.close()
    rng = random.Random(18)
    return {
        "pair_by_year": [{"a": a, "b": b} for a, b in (rng.sample(busy, 2) for _ in range(count))],
        "vote_shares_by_year": [{"party": p} for p in rng.sample(busy, min(count, len(busy)))],
        "closest_one_year": [{"party": p, "year": y} for p, y in sorted(rng.sample(sorted(years), count))],
    }


def _path(name: str, q: dict[str, Any]) -> str:
    if name == "pair_by_year":
        return f"/v1/agreement?a={q['a']}&b={q['b']}&by=year&from=1946-01-01&to=2019-12-31"
    if name == "vote_shares_by_year":
        return f"/v1/parties/{q['party']}/vote-share?by=year"
    return f"/v1/parties/{q['party']}/closest?period={q['year']}"


def _floor_params(name: str, q: dict[str, Any]) -> tuple[Any, ...]:
    if name == "pair_by_year":
        return (q["b"], q["a"])
    if name == "vote_shares_by_year":
        return (q["party"],)
    return (q["party"], q["party"], f"{q['year']}-01-01", f"{q['year']}-12-31")


def child_in_process(env: dict[str, str], questions: dict[str, list[dict[str, Any]]], rounds: int) -> dict[str, Any]:
    """Each question read in process (the engine's read alone, and its bare SQL), warm, CPU and wall."""
    from datetime import UTC, date, datetime

    from api.alignment_answers import Filters, answer_agreement, answer_closest, answer_vote_share
    from bench.stats import summary_ms
    from domain.values import Period
    from projections.readmodel import timestamp

    runtime = _runtime(env)
    out: dict[str, Any] = {}
    try:
        with runtime.store.reading() as sql:
            def engine(name: str, q: dict[str, Any]) -> Any:
                filters = Filters(timestamp(datetime.now(UTC)))
                if name == "pair_by_year":
                    return answer_agreement(runtime, sql, q["a"], q["b"], Period.YEAR,
                                            Filters(filters.known_at, date(1946, 1, 1), date(2019, 12, 31)))
                if name == "vote_shares_by_year":
                    return answer_vote_share(runtime, sql, q["party"], Period.YEAR, filters)
                return answer_closest(runtime, sql, q["party"], Period.YEAR, q["year"], filters)

            for name, asked in questions.items():
                timings: dict[str, tuple[list[float], list[float]]] = {"engine": ([], []), "floor": ([], [])}
                for q in asked:  # warm, untimed
                    engine(name, q)
                    sql.rows(FLOORS[name], _floor_params(name, q))
                for _ in range(rounds):
                    for q in asked:
                        for kind in ("engine", "floor"):
                            wall, cpu = time.perf_counter(), time.process_time()
                            if kind == "engine":
                                engine(name, q)
                            else:
                                sql.rows(FLOORS[name], _floor_params(name, q))
                            timings[kind][0].append(time.perf_counter() - wall)
                            timings[kind][1].append(time.process_time() - cpu)
                out[name] = {kind: {"wall": summary_ms(w), "cpu": summary_ms(c)} for kind, (w, c) in timings.items()}
    finally:
        runtime.close()
    return out


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_http(env: dict[str, str], questions: dict[str, list[dict[str, Any]]], rounds: int) -> dict[str, Any]:
    """Each question over HTTP, one request at a time on one keep-alive connection, warm; and the server's CPU."""
    from bench.loadgen import Server, sequential_latency

    log_dir = Path(tempfile.mkdtemp(prefix="alignment-http-"))
    out: dict[str, Any] = {}
    try:
        with Server("api", {**env, "DIPLO_CHAIN_CHECK": "off"}, "/healthz", log_dir) as api:
            for name, asked in questions.items():
                paths = [_path(name, q) for q in asked]
                sequential_latency(api.base, paths)  # warm, untimed
                before = _cpu_seconds(api.process.pid)
                measured = sequential_latency(api.base, paths * rounds)
                spent = _cpu_seconds(api.process.pid) - before
                out[name] = measured | {"server_cpu_ms_per_request": round(spent / len(paths * rounds) * 1000, 2)}
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    return out


def child_prepare(env: dict[str, str]) -> dict[str, Any]:
    """The whole General Assembly record, both releases, read models caught up."""
    done = subprocess.run([sys.executable, "-m", "api.cli", "seed", "--only", "unga"], env={**os.environ, **env},
                          capture_output=True, text=True, check=False, cwd=Path(__file__).parent.parent)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return {"seeded": True}


CHILDREN: dict[str, Callable[..., Any]] = {"in_process": child_in_process, "http": child_http, "prepare": child_prepare,
            "questions": _questions}


def _child(name: str, **kwargs: Any) -> Any:
    done = subprocess.run([sys.executable, "-m", "bench.alignment", "--child", name, json.dumps(kwargs)],
                          capture_output=True, text=True, check=False, cwd=Path(__file__).parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def _store(backend: str, url: str, given: str | None) -> Iterator[dict[str, str]]:
    """The store's environment: the one given (left as it is), or a fresh one loaded with the record (dropped after)."""
    import psycopg

    directory = Path(given) if backend == "sqlite" and given else Path(tempfile.mkdtemp(prefix=f"align-{backend}-"))
    env = {"DIPLO_DATA_DIR": str(directory), "DIPLO_WRITE_TOKENS": "bench", "DIPLO_CHAIN_CHECK": "off"}
    schema = None
    if backend == "postgres":
        schema = given or f"align_{uuid.uuid4().hex[:10]}"
        env |= {"DIPLO_DATABASE_URL": url, "DIPLO_DATABASE_SCHEMA": schema}
    try:
        if not given:
            print(f"[{backend}] loading the record ...", file=sys.stderr, flush=True)
            _child("prepare", env=env)
        yield env
    finally:
        if not given:
            shutil.rmtree(directory, ignore_errors=True)
            if schema is not None:
                with psycopg.connect(url, autocommit=True) as conn:
                    for doomed in (schema, f"{schema}_views"):
                        conn.execute(f'DROP SCHEMA IF EXISTS "{doomed}" CASCADE')
        elif backend == "postgres":
            shutil.rmtree(directory, ignore_errors=True)


def _vacuum(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("votes", "rollcalls"):
            conn.execute(f'VACUUM ANALYZE "{schema}_views".{table}')


def run(backends: list[str], url: str, stores: dict[str, str | None], count: int, rounds: int) -> dict[str, Any]:
    from bench.machine import describe, load_average

    document: dict[str, Any] = {"machine": describe(url), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                   time.gmtime()),
                                "targets_ms": TARGETS_MS, "backends": {}}
    for backend in backends:
        with _store(backend, url, stores.get(backend)) as env:
            figures: dict[str, Any] = {"load_average_before": load_average()}
            questions = _child("questions", env=env, count=count)
            print(f"[{backend}] in process ...", file=sys.stderr, flush=True)
            figures["in_process"] = _child("in_process", env=env, questions=questions, rounds=rounds)
            print(f"[{backend}] over HTTP ...", file=sys.stderr, flush=True)
            figures["http"] = _child("http", env=env, questions=questions, rounds=rounds)
            if backend == "postgres":
                # As autovacuum leaves the tables (the visibility map lets the party index answer alone); a server
                # with autovacuum off, like this test server, does not get there by itself.
                _vacuum(url, env["DIPLO_DATABASE_SCHEMA"])
                print(f"[{backend}] after VACUUM ...", file=sys.stderr, flush=True)
                figures["after_vacuum"] = {
                    "in_process": _child("in_process", env=env, questions=questions, rounds=rounds),
                    "http": _child("http", env=env, questions=questions, rounds=rounds)}
            figures["questions"] = {name: [_path(name, q) for q in asked] for name, asked in questions.items()}
            figures["summary"] = {
                name: {"target_ms": target, "http_p50_ms": figures["http"][name]["p50_ms"],
                       "http_p99_ms": figures["http"][name]["p99_ms"],
                       "server_cpu_ms_per_request": figures["http"][name]["server_cpu_ms_per_request"],
                       "engine_cpu_p50_ms": figures["in_process"][name]["engine"]["cpu"]["p50_ms"],
                       "floor_cpu_p50_ms": figures["in_process"][name]["floor"]["cpu"]["p50_ms"],
                       "floor_wall_p50_ms": figures["in_process"][name]["floor"]["wall"]["p50_ms"],
                       "met": figures["http"][name]["p50_ms"] <= target}
                | ({"http_p50_ms_after_vacuum": figures["after_vacuum"]["http"][name]["p50_ms"],
                    "engine_cpu_p50_ms_after_vacuum": figures["after_vacuum"]["in_process"][name]["engine"]["cpu"][
                        "p50_ms"],
                    "floor_wall_p50_ms_after_vacuum": figures["after_vacuum"]["in_process"][name]["floor"]["wall"][
                        "p50_ms"]} if "after_vacuum" in figures else {})
                for name, target in TARGETS_MS.items()}
            figures["load_average_after"] = load_average()
            document["backends"][backend] = figures
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--sqlite-dir", help="A store already holding the record (default: load a fresh one)")
    parser.add_argument("--postgres-schema", help="A schema already holding the record (default: load a fresh one)")
    parser.add_argument("--questions", type=int, default=20, help="Pairs, parties and party-years asked")
    parser.add_argument("--rounds", type=int, default=3, help="Times each question is asked, timed")
    parser.add_argument("--out", type=Path, default=RESULTS / "alignment.json")
    args = parser.parse_args(argv)
    if args.child:
        name, kwargs = args.child
        print(json.dumps(CHILDREN[name](**json.loads(kwargs))))
        return 0
    document = run(args.backends, args.postgres_url, {"sqlite": args.sqlite_dir, "postgres": args.postgres_schema},
                   args.questions, args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({b: f["summary"] for b, f in document["backends"].items()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
