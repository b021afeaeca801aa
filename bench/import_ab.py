"""A tight loop for the import and rebuild ratios: `python -m bench.import_ab [--backends sqlite postgres]`.

For each backend and round: `diplo import` of the generated command file into a fresh store, in process (as
bench.paths.bulk_import), then the raw-insert floor of the very rows it stored (bench.paths.import_floor); then
`Projector.catch_up` from 0 into a fresh view store against the raw SELECT of the same rows
(bench.paths.read_floors). Prints each ratio with wall and CPU seconds. The command file is generated once
(`var/bench/acts-<size>.jsonl`) and reused. `--profile import|rebuild` writes a cProfile of that path too.

`--digests` runs the import on a fixed clock (every event's timestamp from one sequence starting 2026-01-01) and
prints a SHA-256 of the whole stored log (positions, ids, versions, topics, state bytes) and the rebuilt read
models' digests (bench.digest): two versions of the code that store the same bytes and project the same rows print
the same lines, on either backend (run it with each version on PYTHONPATH and compare).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import json
import pstats
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eventsourcing import domain as es_domain

from api.bootstrap import bootstrap
from api.command_lines import read_commands
from bench.digest import digests
from bench.generate import DEFAULT_SEED, Generator, parse_size, size_label
from bench.machine import load_average
from bench.paths import fresh_view_store, import_floor, read_floors
from bench.run import DEFAULT_PG
from bench.stats import timed
from bench.stores import BACKENDS, workspace
from domain.bulk import BulkImport
from projections.projector import Projector


def command_file(size: int, directory: Path) -> Path:
    path = directory / f"acts-{size_label(size)}.jsonl"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for command in Generator(size, DEFAULT_SEED):
                out.write(json.dumps(command) + "\n")
    return path


def fixed_clock() -> None:
    """Every event's timestamp from one sequence, so two imports of the same file store the same bytes."""
    ticks = iter(range(10**12))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    es_domain.datetime_now_with_tzinfo = lambda: start + timedelta(microseconds=next(ticks))


def log_digest(recorder: Any) -> tuple[int, str]:
    """How many events the log holds, and a SHA-256 of every one (position, id, version, topic, state bytes)."""
    digest, n, after = hashlib.sha256(), 0, 0
    while page := recorder.select_notifications(start=after, limit=5000, inclusive_of_start=False):
        for x in page:
            digest.update(repr((x.id, str(x.originator_id), x.originator_version, x.topic, bytes(x.state))).encode())
            n += 1
        after = page[-1].id
    return n, digest.hexdigest()


def _profiled(name: str, work: Callable[[], Any]) -> Any:
    profiler = cProfile.Profile()
    value = profiler.runcall(work)
    out = Path("var/bench") / f"{name}.prof"
    profiler.dump_stats(out)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(35)
    stats.sort_stats("cumulative").print_stats(35)
    print(f"profile written to {out}")
    return value


def one_round(backend: str, path: Path, root: Path, postgres_url: str, profile: str | None,
              show_digests: bool) -> dict[str, Any]:
    found: dict[str, Any] = {"backend": backend, "load_before": load_average()}
    if show_digests:
        fixed_clock()  # from its start in each round: each import stores the same bytes
    with workspace(backend, root, postgres_url) as ws:
        rt = bootstrap(ws.settings, start_projector=False, follow=False)
        try:
            gc.collect()

            def do_import() -> Any:
                with path.open(encoding="utf-8") as handle:
                    return BulkImport(rt.app).run(read_commands(handle))

            with timed() as clock:
                result = _profiled(f"import-{backend}", do_import) if profile == "import" else do_import()
            if show_digests:
                found["log"] = log_digest(rt.app.recorder)
            floor = import_floor(ws)
            found["import"] = {"events": result.events, "wall_s": round(clock.seconds, 3),
                               "cpu_s": round(clock.cpu_seconds, 3),
                               "events_per_s": round(result.events / clock.seconds),
                               "floor_rows_per_s": floor["floor_rows_per_s"],
                               "ratio": round(result.events / clock.seconds / floor["floor_rows_per_s"], 4)}
            reads = read_floors(rt, ws)
            store = fresh_view_store(ws, "ab")
            projector = Projector(rt.app.recorder, rt.app.mapper, store, page_size=rt.settings.page_size,
                                  max_page_size=rt.settings.max_page_size)
            gc.collect()
            with timed() as clock:
                _profiled(f"rebuild-{backend}", projector.catch_up) if profile == "rebuild" else projector.catch_up()
            head = reads["events"]
            found["rebuild"] = {"events": head, "wall_s": round(clock.seconds, 3), "cpu_s": round(clock.cpu_seconds, 3),
                                "events_per_s": round(head / clock.seconds),
                                "floor_events_per_s": reads["floor_events_per_s"],
                                "decode_events_per_s": reads["pages_and_decode"]["events_per_s"],
                                "ratio": round(head / clock.seconds / reads["floor_events_per_s"], 4)}
            if show_digests:
                found["digests"] = {table: [count, digest[:24]] for table, (digest, count) in digests(store).items()}
            store.close()
        finally:
            rt.close()
    found["load_after"] = load_average()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="10k")
    parser.add_argument("--backends", nargs="*", choices=BACKENDS, default=["sqlite"])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profile", choices=("import", "rebuild"))
    parser.add_argument("--digests", action="store_true",
                        help="fixed clock; print the stored log's hash and the rebuilt read models' digests")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--workdir", type=Path, default=Path("var/bench"))
    args = parser.parse_args(argv)
    path = command_file(parse_size(args.size), args.workdir)
    for _ in range(args.rounds):
        for backend in args.backends:
            print(json.dumps(one_round(backend, path, args.workdir.resolve(), args.postgres_url, args.profile,
                                       args.digests)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
