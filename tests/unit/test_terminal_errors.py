"""A command's one-line error says what happened to the store: unreachable, missing, or answering with an error."""

from __future__ import annotations

from pathlib import Path

import psycopg

from api.settings import Settings
from api.terminal import unreachable

URL = "postgresql://someone:secret@db.example:6543/diplo"


def settings() -> Settings:
    return Settings(database_url=URL, data_dir=Path("/nowhere"))


def test_a_deadlock_is_an_answer_from_the_server_not_an_unreachable_store() -> None:
    line = unreachable(settings(), psycopg.errors.DeadlockDetected("deadlock detected"))
    assert "answered with an error (40P01)" in line and "deadlock detected" in line
    assert "does not answer" not in line and "secret" not in line


def test_a_failed_connection_is_an_unreachable_store() -> None:
    line = unreachable(settings(), psycopg.OperationalError("connection failed: Connection refused"))
    assert line.startswith("the PostgreSQL database 'diplo' at db.example:6543 (DIPLO_DATABASE_URL) does not answer")
    assert "secret" not in line


def test_a_server_shutting_down_is_an_unreachable_store() -> None:
    line = unreachable(settings(), psycopg.errors.AdminShutdown("terminating connection due to administrator command"))
    assert "does not answer" in line
