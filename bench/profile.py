"""Profiles the import, rebuild and stance paths with pyinstrument: `python -m bench.profile [--size 10k]`.

Writes, per path and backend, the call tree and a flat list of where the time is spent (self time) to
bench/results/profiles/. The findings are summarised in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer

from api.bootstrap import bootstrap
from api.command_lines import read_commands
from bench.generate import DEFAULT_SEED, Generator, parse_size, size_label
from bench.paths import fresh_view_store
from bench.run import DEFAULT_PG
from bench.stores import BACKENDS, workspace
from domain.bulk import BulkImport
from projections.projector import Projector
from projections.readmodel import timestamp
from projections.stance_history import stances_of

PROFILES = Path(__file__).parent / "results" / "profiles"


def _profile(name: str, work: Callable[[], Any]) -> None:
    profiler = Profiler(interval=0.0005)
    profiler.start()
    work()
    profiler.stop()
    PROFILES.mkdir(parents=True, exist_ok=True)
    tree = profiler.output(ConsoleRenderer(unicode=False, color=False, short_mode=False,
                                           processor_options={"filter_threshold": 0.01}))
    flat = profiler.output(ConsoleRenderer(unicode=False, color=False, flat=True))
    flat_lines = flat.splitlines()
    (PROFILES / f"{name}.txt").write_text(
        "# where the time goes (self time, top 40)\n" + "\n".join(flat_lines[:50]) + "\n\n# call tree\n" + tree
    )
    print(f"== {name}\n" + "\n".join(flat_lines[:25]), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="10k")
    parser.add_argument("--backends", nargs="*", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--workdir", type=Path, default=Path("var/bench"))
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    commands = list(Generator(size, DEFAULT_SEED))
    lines = [json.dumps(c) + "\n" for c in commands]
    for backend in args.backends:
        label = f"{backend}-{size_label(size)}"
        with workspace(backend, args.workdir.resolve(), args.postgres_url) as ws:
            rt = bootstrap(ws.settings, start_projector=False, follow=False)
            try:
                print(f"importing {len(lines)} commands into {backend} ...", file=sys.stderr, flush=True)
                # diplo import of the command file: read and check, decide, one transaction
                _profile(f"import-{label}", lambda: BulkImport(rt.app).run(read_commands(lines)))  # noqa: B023
                store = fresh_view_store(ws, "profiled")
                projector = Projector(rt.app.recorder, rt.app.mapper, store, page_size=rt.settings.page_size,
                                      max_page_size=rt.settings.max_page_size)
                _profile(f"rebuild-{label}", projector.catch_up)
                rng = random.Random(3)
                with store.reading() as sql:
                    parties = sorted(r["party"] for r in sql.rows("SELECT DISTINCT party FROM stance_acts"))
                known_at = timestamp(datetime.now(UTC))
                first = date(1995, 1, 1)
                questions = [(rng.choice(parties), (first + timedelta(days=rng.randrange(11000))).isoformat())
                             for _ in range(3000)]

                def ask() -> None:
                    with store.reading() as sql:  # noqa: B023
                        for party, at in questions:  # noqa: B023
                            stances_of(sql, party, at, known_at)  # noqa: B023

                _profile(f"stance-{label}", ask)
                store.close()
            finally:
                rt.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
