"""The General Assembly's real record at the speed of the machine (issues 15 and 17): `python -m bench.unga`.

Each figure is taken in a process of its own (so its peak memory is its own) and beside its floor, measured in the
same run on the same machine:
- loading the 2021 release into an empty store, read models caught up (the files read, the differences decided
  and stored, the projection), and the 2021 release over the 2017 one;
- `diplo rebuild` of every read model over the whole record (the AI summits' releases and both UN releases);
- the floors: inserting 870,109 rows, one per vote, each the smallest event that could carry it (an id, its roll
  call, party, vote and date: about 90 bytes), into a table shaped like the event store's, in one transaction, and
  reading them back; and the same for the events the engine actually stored (one per roll call, its votes in it);
- one party's vote on one roll call, asked in process, beside the bare SQL of the same question;
- one roll call over HTTP, one request at a time and under wrk, beside a bare FastAPI endpoint sending the same
  answers (without wrk the ratio is "not measured": a Python generator, not the server, would set the pace).
Results go to bench/results/unga.json with the machine's description; `python -m bench.report` is not needed:
the file is small, and docs/benchmarks.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
DEFAULT_PG = os.environ.get("DIPLO_BENCH_DATABASE_URL",
                            os.environ.get("DIPLO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
VOTES_2021 = 870_109


def _rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@contextmanager
def _phase(record: dict[str, Any], name: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    record[name] = {"wall_s": round(time.perf_counter() - wall, 3), "cpu_s": round(time.process_time() - cpu, 3)}


# -- the children: one measurement each, in a process of its own --------------------------------------------------


def _runtime(env: dict[str, str]) -> Any:
    os.environ.update(env)
    from api.bootstrap import bootstrap
    from api.settings import Settings

    return bootstrap(Settings(), start_projector=False, follow=False)


def _load(runtime: Any, name: str, out: dict[str, Any], prefix: str = "") -> None:
    from domain.releases import LoadRelease
    from seeds.unga import DATA, read_release

    with _phase(out, f"{prefix}read"):
        facts = read_release(DATA / "unvotes" / name, runtime.parties)
    with _phase(out, f"{prefix}decide_store"):
        result = runtime.app.handle_all([(1, LoadRelease(facts))])
    with _phase(out, f"{prefix}project"):
        runtime.projector.catch_up()
    out[f"{prefix}events"] = result.events


def child_load(env: dict[str, str], over_2017: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    runtime = _runtime(env)
    try:
        if over_2017:
            _load(runtime, "release-2017-03-14", out, prefix="before_")
        wall, cpu = time.perf_counter(), time.process_time()
        _load(runtime, "release-2021-03-08", out)
        out["total"] = {"wall_s": round(time.perf_counter() - wall, 3), "cpu_s": round(time.process_time() - cpu, 3)}
    finally:
        runtime.close()
    out["peak_rss_mib"] = _rss_mib()
    return out


def child_rebuild(env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    runtime = _runtime(env)
    try:
        out["events"] = runtime.projector.head()
        with _phase(out, "total"):
            out["applied"] = runtime.projector.rebuild_beside()
    finally:
        runtime.close()
    out["peak_rss_mib"] = _rss_mib()
    return out


def child_digest(env: dict[str, str]) -> dict[str, Any]:
    """Every read-model table's digest (bench/digest.py), taken before and after the rebuild in processes of
    their own, so the run shows that replaying the whole log gives exactly the rows the loads built
    incrementally (issue 17, item 5) without the digest's memory counting as the rebuild's."""
    from bench.digest import digests

    runtime = _runtime(env)
    try:
        return {table: {"sha256": digest, "rows": rows} for table, (digest, rows) in digests(runtime.store).items()}
    finally:
        runtime.close()


def child_prepare_whole(env: dict[str, str]) -> dict[str, Any]:
    """The whole record, to rebuild: the AI summits' releases, then both UN releases."""
    from seeds.loader import seed

    runtime = _runtime(env)
    out: dict[str, Any] = {}
    try:
        seed(runtime.app)
        _load(runtime, "release-2017-03-14", out, prefix="r2017_")
        _load(runtime, "release-2021-03-08", out, prefix="r2021_")
        out["head"] = runtime.projector.head()
    finally:
        runtime.close()
    return out


def child_one_vote(env: dict[str, str], rounds: int) -> dict[str, Any]:
    """One party's vote on one roll call, in process, beside the bare SQL of the same question."""
    import random

    from bench.stats import summary_ms
    from projections.readmodel import timestamp
    from projections.votes import vote_of

    runtime = _runtime(env)
    out: dict[str, Any] = {}
    try:
        with runtime.store.reading() as sql:
            pairs = [(r["id"], r["party"]) for r in sql.rows(
                "SELECT r.id, v.party FROM votes v JOIN rollcalls r ON r.rc_key = v.rc_key"
                " AND r.to_position IS NULL WHERE v.seen_to IS NULL AND v.rc_key % 97 = 0")]
        random.Random(7).shuffle(pairs)
        asked = (pairs * (rounds // max(len(pairs), 1) + 1))[:rounds]
        known = timestamp(__import__("datetime").datetime.now(__import__("datetime").UTC))
        bare = ("SELECT v.vote FROM votes v JOIN rollcalls r ON r.rc_key = v.rc_key AND r.to_position IS NULL"
                " WHERE r.id = ? AND v.party = ? AND v.seen_to IS NULL")
        engine, floor = [], []
        with runtime.store.reading() as sql:
            for slug, party in asked:  # warm both, untimed
                vote_of(sql, slug, party, known)
                sql.rows(bare, (slug, party))
            for slug, party in asked:
                started = time.perf_counter()
                vote_of(sql, slug, party, known)
                engine.append(time.perf_counter() - started)
                started = time.perf_counter()
                sql.rows(bare, (slug, party))
                floor.append(time.perf_counter() - started)
        out["engine"], out["floor"] = summary_ms(engine), summary_ms(floor)
    finally:
        runtime.close()
    return out


def child_floor(backend: str, url: str | None, directory: str, events_from: str | None) -> dict[str, Any]:
    """Raw inserts and reads: 870,109 event-sized rows, and (if given a store) the engine's own stored events."""
    out: dict[str, Any] = {}
    rows = _event_sized_rows()
    out["event_sized_rows"] = len(rows)
    out["event_sized_bytes"] = sum(len(r[3]) for r in rows)
    out["insert"], out["read"] = _raw(backend, url, directory, rows, "floor_votes")
    if events_from is not None:
        stored = _stored_events(backend, url, events_from)
        out["stored_events"] = len(stored)
        out["stored_bytes"] = sum(len(r[3]) for r in stored)
        out["insert_stored"], out["read_stored"] = _raw(backend, url, directory, stored, "floor_events")
    return out


def _event_sized_rows() -> list[tuple[str, int, str, bytes]]:
    """One row per vote of the 2021 release, as the smallest event that could carry it: an event id, its roll call,
    the party, the vote and the date, in a table shaped like the event store's, ids in the order stored."""
    from seeds.successions import load_registry
    from seeds.unga import DATA, read_release

    facts = read_release(DATA / "unvotes" / "release-2021-03-08", load_registry())
    rows = []
    for rc in facts.rollcalls:
        for party, vote in rc.votes.items():
            oid = f"{len(rows):032x}"
            state = (f'{{"rollcall_id":"{rc.slug}","party":"{party}","vote":"{vote}",'
                     f'"date":"{rc.date}"}}').encode()
            rows.append((oid, 1, "diplo:Vote.Cast", state))
    return rows


def _stored_events(backend: str, url: str | None, source: str) -> list[tuple[str, int, str, bytes]]:
    if backend == "sqlite":
        with sqlite3.connect(Path(source) / "events.sqlite3") as conn:
            return [(str(r[0]), int(r[1]), str(r[2]), bytes(r[3])) for r in conn.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid")]
    import psycopg

    with psycopg.connect(url or "", autocommit=True) as conn:
        return [(str(r[0]), int(r[1]), str(r[2]), bytes(r[3])) for r in conn.execute(
            f'SELECT originator_id, originator_version, topic, state FROM "{source}"."diplo_events"'
            " ORDER BY notification_id")]


def _raw(backend: str, url: str | None, directory: str, rows: list[tuple[str, int, str, bytes]],
         table: str) -> tuple[dict[str, float], dict[str, float]]:
    """One transaction of inserts into a table shaped like the event store's, then every row read back."""
    if backend == "sqlite":
        path = Path(directory) / f"{table}.sqlite3"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"CREATE TABLE {table} (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB,"
                     " PRIMARY KEY (originator_id, originator_version))")
        insert: dict[str, float] = {}
        with _timed(insert):
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
        read: dict[str, float] = {}
        with _timed(read):
            conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()
        conn.close()
        return insert, read
    import psycopg

    schema = f"floor_{os.getpid()}"
    with psycopg.connect(url or "", autocommit=False) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".{table} (notification_id bigserial, originator_id text,'
                     " originator_version integer, topic text, state bytea,"
                     " PRIMARY KEY (originator_id, originator_version))")
        conn.commit()
        insert = {}
        try:
            with _timed(insert), conn.cursor() as cur, cur.copy(
                    f'COPY "{schema}".{table} (originator_id, originator_version, topic, state) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            read = {}
            with _timed(read):
                conn.execute(f'SELECT * FROM "{schema}".{table} ORDER BY notification_id').fetchall()
            conn.commit()
        finally:
            conn.rollback()
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            conn.commit()
        return insert, read


@contextmanager
def _timed(into: dict[str, float]) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into["wall_s"], into["cpu_s"] = round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)


def child_http(env: dict[str, str], paths: int, seconds: int, connections: int) -> dict[str, Any]:
    """One roll call over HTTP (`GET /v1/rollcalls/{id}`: its tally and every vote, with sources), beside a bare
    FastAPI endpoint that sends the very same answers, ready as bytes: one request at a time, then under wrk."""
    import random

    import httpx

    from bench.loadgen import Server, requests_per_second, sequential_latency

    os.environ.update(env)
    log_dir = Path(tempfile.mkdtemp(prefix="unga-http-"))
    out: dict[str, Any] = {}
    with Server("api", {**env, "DIPLO_CHAIN_CHECK": "off"}, "/healthz", log_dir) as api:
        slugs = []
        cursor: str | None = None
        while True:  # every roll call's id, through the API's own paging
            page = httpx.get(f"{api.base}/v1/rollcalls", params={"limit": 1000, **({"cursor": cursor} if cursor
                                                                                    else {})}, timeout=60).json()
            slugs += [r["id"] for r in page["rollcalls"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        chosen = random.Random(7).sample(slugs, min(paths, len(slugs)))
        answers = {slug: httpx.get(f"{api.base}/v1/rollcalls/{slug}", timeout=60).json() for slug in chosen}
        out["rollcalls"], out["paths"] = len(slugs), len(chosen)
        out["answer_bytes_mean"] = round(sum(len(json.dumps(a)) for a in answers.values()) / len(answers))
        fixture = log_dir / "rollcalls.json"
        fixture.write_text(json.dumps(answers), encoding="utf-8")
        engine_paths = [f"/v1/rollcalls/{slug}" for slug in chosen]
        bare_paths = [f"/bare/rollcalls/{slug}" for slug in chosen]
        with Server("bare", {"DIPLO_BENCH_ROLLCALLS": str(fixture)}, "/bare/subscribers", log_dir) as bare:
            sequential_latency(api.base, engine_paths)  # warm both, untimed
            sequential_latency(bare.base, bare_paths)
            out["latency"] = {"api": sequential_latency(api.base, engine_paths),
                              "bare": sequential_latency(bare.base, bare_paths)}
            out["requests_per_second"] = {
                "bare": requests_per_second(bare.base, bare_paths, seconds=seconds, connections=connections),
                "bare_async": requests_per_second(bare.base, [p.replace("/bare/", "/bare/async/", 1)
                                                              for p in bare_paths],
                                                  seconds=seconds, connections=connections),
                "api": requests_per_second(api.base, engine_paths, seconds=seconds, connections=connections)}
            api.stop()
            # The A/B of the lean route (api/lean_routes.py): the same store served through FastAPI's own handler.
            with Server("api", {**env, "DIPLO_CHAIN_CHECK": "off", "DIPLO_LEAN_ROUTES": "false"}, "/healthz",
                        log_dir) as standard:
                sequential_latency(standard.base, engine_paths)
                out["requests_per_second"]["api_standard_handler"] = requests_per_second(
                    standard.base, engine_paths, seconds=seconds, connections=connections)
    rps = out["requests_per_second"]
    measured = rps["bare"]["generator"] == "wrk"  # a Python generator saturates before the bare endpoint does
    # Against the bare endpoint of the read's shape: on SQLite a kept roll call is answered on the event loop
    # (api/lean_routes.py), so its floor is the `async def`; on PostgreSQL it goes through the thread pool.
    out["floor"] = "bare_async" if not env.get("DIPLO_DATABASE_URL") else "bare"
    floor = rps[out["floor"]]["ok_per_s"]
    out["ratio_requests_per_second"] = round(rps["api"]["ok_per_s"] / floor, 3) if measured and floor else None
    out["ratio_requests_per_second_to_def"] = (round(rps["api"]["ok_per_s"] / rps["bare"]["ok_per_s"], 3)
                                               if measured and rps["bare"]["ok_per_s"] else None)
    out["ratio_requests_per_second_standard_handler"] = (
        round(rps["api_standard_handler"]["ok_per_s"] / floor, 3) if measured and floor else None)
    if not measured:
        out["not_measured"] = "wrk is not installed: the Python load generator, not the server, sets the pace"
    shutil.rmtree(log_dir, ignore_errors=True)
    return out


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "load": child_load, "rebuild": child_rebuild, "prepare_whole": child_prepare_whole, "one_vote": child_one_vote,
    "floor": child_floor, "http": child_http, "digest": child_digest,
}


# -- the parent: stores, children, ratios -------------------------------------------------------------------------


def _child(name: str, **kwargs: Any) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.unga", "--child", name, json.dumps(kwargs)],
                          capture_output=True, text=True, check=False, cwd=Path(__file__).parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@contextmanager
def _store(backend: str, url: str) -> Iterator[tuple[dict[str, str], str]]:
    """A fresh store: its environment, and what the floors need to find its events (a directory or a schema)."""
    import uuid

    import psycopg

    directory = Path(tempfile.mkdtemp(prefix=f"unga-{backend}-"))
    env = {"DIPLO_DATA_DIR": str(directory), "DIPLO_WRITE_TOKENS": "bench", "DIPLO_CHAIN_CHECK": "off"}
    schema = None
    if backend == "postgres":
        schema = f"unga_{uuid.uuid4().hex[:10]}"
        env |= {"DIPLO_DATABASE_URL": url, "DIPLO_DATABASE_SCHEMA": schema}
    try:
        yield env, schema or str(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        if schema is not None:
            with psycopg.connect(url, autocommit=True) as conn:
                for doomed in (schema, f"{schema}_views"):
                    conn.execute(f'DROP SCHEMA IF EXISTS "{doomed}" CASCADE')


def _ratio(engine: float, floor: float) -> float:
    return round(engine / floor, 2) if floor else float("inf")


def run(backends: list[str], url: str, vote_rounds: int) -> dict[str, Any]:
    from bench.machine import describe, load_average

    document: dict[str, Any] = {"machine": describe(url), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                "backends": {}}
    for backend in backends:
        figures: dict[str, Any] = {}
        print(f"[{backend}] load of the 2021 release into an empty store ...", file=sys.stderr, flush=True)
        with _store(backend, url) as (env, where):
            figures["load_2021"] = _child("load", env=env, over_2017=False)
            figures["floor"] = _child("floor", backend=backend, url=url, directory=tempfile.mkdtemp(),
                                      events_from=where)
            figures["one_vote"] = _child("one_vote", env=env, rounds=vote_rounds)
        print(f"[{backend}] the 2021 release over the 2017 one ...", file=sys.stderr, flush=True)
        with _store(backend, url) as (env, _):
            figures["load_2021_over_2017"] = _child("load", env=env, over_2017=True)
        print(f"[{backend}] rebuild of every read model over the whole record ...", file=sys.stderr, flush=True)
        with _store(backend, url) as (env, _):
            figures["whole_record"] = _child("prepare_whole", env=env)
            before = _child("digest", env=env)
            figures["rebuild"] = _child("rebuild", env=env)
            after = _child("digest", env=env)
            figures["digests_after_rebuild"] = after
            figures["tables_that_differ_after_rebuild"] = sorted(
                t for t in before.keys() | after.keys() if before.get(t) != after.get(t))
            print(f"[{backend}] one roll call over HTTP ...", file=sys.stderr, flush=True)
            figures["http_rollcall"] = _child("http", env=env, paths=200, seconds=8, connections=16)
        floor = figures["floor"]
        figures["ratios"] = {
            "load_2021_to_raw_insert": _ratio(figures["load_2021"]["total"]["wall_s"], floor["insert"]["wall_s"]),
            "load_over_2017_to_raw_insert": _ratio(figures["load_2021_over_2017"]["total"]["wall_s"],
                                                   floor["insert"]["wall_s"]),
            "rebuild_to_raw_read": _ratio(figures["rebuild"]["total"]["wall_s"], floor["read"]["wall_s"]),
            "http_rollcall_to_bare": figures["http_rollcall"]["ratio_requests_per_second"],
        }
        figures["rebuild_gives_the_same_rows"] = not figures["tables_that_differ_after_rebuild"]
        figures["load_average_after"] = load_average()
        document["backends"][backend] = figures
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--vote-rounds", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=RESULTS / "unga.json")
    args = parser.parse_args(argv)
    if args.child:
        name, kwargs = args.child
        print(json.dumps(CHILDREN[name](**json.loads(kwargs))))
        return 0
    document = run(args.backends, args.postgres_url, args.vote_rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({b: f["ratios"] | {"load_2021_s": f["load_2021"]["total"]["wall_s"],
                                         "rebuild_s": f["rebuild"]["total"]["wall_s"]}
                      for b, f in document["backends"].items()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
