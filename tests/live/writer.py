"""A writer in a process of its own, on the store named by the DIPLO_* environment (not a test module).

    python -m tests.live.writer COUNT PREFIX [--pause SECONDS] [--size CHARS] [--batch N]

stores COUNT statements (one public event each, with the event index beside it) through the application
service `DiplomaticRecord`, as another API worker would: one command per statement, or N statements per
transaction with --batch, and prints the last position it stored.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from datetime import date
from typing import Any

import psycopg

from api.settings import Settings
from domain.commands import RecordStatement
from domain.ledger import EventIndex
from domain.parties import PartyRegistry
from domain.service import DiplomaticRecord
from domain.statement import Statement
from domain.values import Source
from seeds.organisations import load_organisations

PARTIES = ("FR", "US", "GB", "DE", "IN", "JP", "BR", "KE")
SOURCE = Source("Live wire", "https://example.org/live", "Example Wire")
SAID_ON = date(2025, 2, 11)


def write_statements(app: DiplomaticRecord, count: int, prefix: str, *, pause: float = 0.0, size: int = 0,
                     batch: int = 1) -> int:
    """Stores `count` statements; returns the last position stored."""
    last = 0
    padding = " " + "x" * size if size else ""
    pending: list[Any] = []
    for i in range(count):
        party, text = PARTIES[i % len(PARTIES)], f"{prefix} statement {i}{padding}"
        if batch == 1:
            receipt = app.handle(RecordStatement(party=party, speaker=f"{prefix} speaker", occurred_on=SAID_ON,
                                                 text=text, sources=[SOURCE]))
            last = receipt.last_position or last
        else:
            statement = Statement.issue(
                party=party, speaker=f"{prefix} speaker", occurred_on=SAID_ON, precision="day", text=text,
                about=None, position=None, note=None, sources=[SOURCE.as_dict()], confidence="high",
                today=app.today(),
            )
            pending += [statement, EventIndex.index(event_id=statement.issued_event_id, target=statement.id,
                                                    kind="statement")]
            if len(pending) == 2 * batch or i == count - 1:
                last = max(r.notification.id for r in app.save(*pending))
                pending.clear()
        if pause:
            time.sleep(pause)
    return last


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("prefix")
    parser.add_argument("--pause", type=float, default=0.0)
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    settings = Settings()
    if settings.database_url is not None:  # a writer may come first: the schema is made by whoever does
        with psycopg.connect(settings.database_url, autocommit=True) as conn, contextlib.suppress(
            psycopg.errors.UniqueViolation
        ):
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.database_schema}"')
    app = DiplomaticRecord(settings.eventsourcing_env(), parties=PartyRegistry(load_organisations()))
    try:
        last = write_statements(app, args.count, args.prefix, pause=args.pause, size=args.size, batch=args.batch)
    finally:
        app.close()
    print(f"last position {last}", flush=True)


if __name__ == "__main__":
    main()
