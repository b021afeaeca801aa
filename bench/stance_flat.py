"""Is the one-pair stance flat in the size of the history? The engine's `stance_of` on two SQLite view stores,
in one process, in alternating rounds: `python -m bench.stance_flat SMALL_VIEWS LARGE_VIEWS [--rounds 3]`.

Each store is a data directory's `views.sqlite3`: fill one with `python -m bench.generate --size 1m --out F`
and `DIPLO_DATA_DIR=D diplo import F`, which catches the read models up (a 1M file: ~20 min). Asks 3,000 random
questions (a pair that has acts, a day from 1995 on, known_at now) per store and round; prints p50 and p99 per round
and the large/small ratio of their medians over the rounds. The first round also shows a cold file.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

from projections.stance_history import stance_of
from projections.store import SQLiteViewStore

NOW = "9999-12-31T00:00:00.000000+00:00"


def questions(store: SQLiteViewStore, n: int, seed: int) -> list[tuple[str, str, str]]:
    with store.reading() as sql:
        pairs = [(r["party"], r["declaration_id"])
                 for r in sql.rows("SELECT DISTINCT party, declaration_id FROM stance_acts ORDER BY 1, 2")]
    rng = random.Random(seed)
    return [(*rng.choice(pairs), (date(1995, 1, 1) + timedelta(days=rng.randrange(11000))).isoformat())
            for _ in range(n)]


def percentiles_ms(store: SQLiteViewStore, asked: list[tuple[str, str, str]]) -> tuple[float, float]:
    times = []
    with store.reading() as sql:
        for party, declaration, at in asked:
            start = time.perf_counter()
            stance_of(sql, party, declaration, at, NOW)
            times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2] * 1e3, times[int(len(times) * 0.99)] * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("small", type=Path)
    parser.add_argument("large", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--questions", type=int, default=3000)
    args = parser.parse_args(argv)
    stores = {"small": SQLiteViewStore(args.small), "large": SQLiteViewStore(args.large)}
    asked = {name: questions(store, args.questions, seed=7) for name, store in stores.items()}
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in stores}
    for n in range(args.rounds):
        for name, store in stores.items():
            p50, p99 = percentiles_ms(store, asked[name])
            found[name].append((p50, p99))
            print(f"round {n + 1}, {name}: p50 {p50:.4f} ms, p99 {p99:.4f} ms", flush=True)
    for i, label in ((0, "p50"), (1, "p99")):
        large = statistics.median(r[i] for r in found["large"])
        small = statistics.median(r[i] for r in found["small"])
        print(f"{label}: large / small = {large:.4f} / {small:.4f} ms = {large / small:.2f}x (target <= 1.5x)")
    for store in stores.values():
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
