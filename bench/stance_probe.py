"""Stance questions straight against a SQLite view store, to see what the SQL alone costs and what two
proposed changes would buy: `python -m bench.stance_probe var/views.sqlite3`.

- a party on every declaration (what stances_of asks), and one party on one declaration with the
  declaration in the WHERE clause (what `?declaration=` could ask, instead of filtering in Python);
- PROTOTYPE: both again through a partial index of the open spans (`WHERE recorded_to IS NULL`), for the
  default known_at = now. The index is dropped again afterwards; nothing else in the file changes.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from projections.readmodel import timestamp
from projections.stance_history import BOTH_TIMES, EVERY_DECLARATION, PARTY_SPANS, both_times

SELECT = PARTY_SPANS
OPEN_NOW = (" AND s.min_confidence = ? AND s.valid_from <= ? AND (s.valid_to IS NULL OR s.valid_to > ?)"
            " AND s.recorded_to IS NULL")


def _run(conn: sqlite3.Connection, sql: str, questions: Sequence[tuple[Any, ...]]) -> str:
    times, rows = [], 0
    for params in questions:
        start = time.perf_counter()
        rows += len(conn.execute(sql, params).fetchall())
        times.append(time.perf_counter() - start)
    times.sort()
    return (f"p50 {times[len(times) // 2] * 1000:.3f} ms  p99 {times[int(len(times) * 0.99)] * 1000:.3f} ms"
            f"  rows a question {rows / len(questions):.1f}")


def main(argv: list[str]) -> int:
    conn = sqlite3.connect(argv[0])
    spans = conn.execute("SELECT COUNT(*), SUM(recorded_to IS NULL) FROM stance_spans").fetchone()
    print(f"{spans[0]} spans, {spans[1]} open")
    parties = [r[0] for r in conn.execute("SELECT DISTINCT party FROM stance_acts ORDER BY 1")]
    pairs = conn.execute("SELECT DISTINCT party, declaration_id FROM stance_acts ORDER BY 1, 2").fetchall()
    rng = random.Random(1)
    known = timestamp(datetime.now(UTC))
    party_q = [(rng.choice(parties), f"{rng.randrange(1995, 2025)}-06-01") for _ in range(1000)]
    pair_q = [(*rng.choice(pairs), f"{rng.randrange(1995, 2025)}-06-01") for _ in range(1000)]
    print("a party on every declaration:  ", _run(conn, EVERY_DECLARATION,
                                                  [(p, *both_times(at, known, "low")) for p, at in party_q]))
    print("one pair, declaration in SQL:  ", _run(conn, SELECT + " WHERE s.party = ? AND s.declaration_id = ?"
                                                  + BOTH_TIMES,
                                                  [(p, d, *both_times(at, known, "low")) for p, d, at in pair_q]))
    conn.execute("CREATE INDEX proto_open_spans ON stance_spans (party, min_confidence, declaration_id, valid_from)"
                 " WHERE recorded_to IS NULL")
    try:
        print("PROTOTYPE open spans, a party: ", _run(conn, SELECT + " WHERE s.party = ?" + OPEN_NOW
                                                      + " ORDER BY s.declaration_id",
                                                      [(p, "low", at, at) for p, at in party_q]))
        print("PROTOTYPE open spans, one pair:", _run(conn, SELECT + " WHERE s.party = ? AND s.declaration_id = ?"
                                                      + OPEN_NOW, [(p, d, "low", at, at) for p, d, at in pair_q]))
    finally:
        conn.execute("DROP INDEX proto_open_spans")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
