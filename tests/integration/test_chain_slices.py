"""A large insert links its hash chain a slice at a time on PostgreSQL, so the transaction is never idle for
the whole hashing: a 1M-act bulk import (2M events) sat idle past eventsourcing's
idle_in_transaction_session_timeout while hashing, and the server dropped it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

import storage.postgres
from api.bootstrap import Runtime
from api.command_lines import read_commands
from domain.bulk import BulkImport
from domain.parties import PartyRegistry
from domain.service import DiplomaticRecord
from seeds.organisations import load_organisations


def test_linking_a_large_insert_never_idles_the_transaction_past_the_servers_timeout(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second writer on the runtime's store, with a 1 s idle timeout on PostgreSQL (SQLite has none: there the
    # same import must simply land whole).
    env = runtime.settings.eventsourcing_env() | {"POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "1"}
    app = DiplomaticRecord(env, parties=PartyRegistry(load_organisations()))
    original = storage.postgres.link

    def slow_link(*args: Any) -> bytes:
        time.sleep(0.0006)  # 2,100 links: ~1.3 s in all, ~0.6 s per slice of 1,000
        return original(*args)

    monkeypatch.setattr(storage.postgres, "link", slow_link)
    lines = [json.dumps({"command": "record_statement", "party": "FR", "occurred_on": f"2025-01-{1 + n % 28:02d}",
                         "text": f"Statement {n}", "sources": [{"title": "Wire", "url": "https://example.org/w"}]})
             + "\n" for n in range(1050)]
    try:
        result = BulkImport(app).run(read_commands(lines))  # 2,100 events: each statement and its index entry
    finally:
        app.close()
    assert result.events == 2100 and result.commands == 1050
    assert runtime.projector.head() == result.last_position
