"""What the `diplo` commands share: a runtime for one command, dates from options, and one style per kind."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import NoReturn
from urllib.parse import urlparse

import psycopg
import psycopg_pool
import typer
from pydantic import BaseModel
from rich.console import Console

from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from domain.errors import DomainError
from domain.values import EventKind, Stance

# Errors and notes go to standard error, so a script reading standard output gets the answer or nothing.
err = Console(stderr=True, soft_wrap=True)


class ReadFormat(StrEnum):
    """How a read command prints its answer: a Rich table for a person, or the HTTP answer's JSON for a script."""

    TABLE = "table"
    JSON = "json"


def fail(message: str, code: int = 2) -> NoReturn:
    """An error on standard error, and the exit status (2: the command was asked wrongly; 1: it could not run)."""
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def refused(error: DomainError) -> NoReturn:
    """A domain refusal (unknown party or declaration, a bad date), naming the field as the HTTP problem does."""
    where = f" ({error.field})" if error.field else ""
    err.print(f"[red]error{where}:[/red] {error.message}", highlight=False)
    raise typer.Exit(2)


def print_json(answer: BaseModel) -> None:
    """One JSON document on standard output, exactly as the HTTP answer's model writes it."""
    sys.stdout.write(answer.model_dump_json(by_alias=True) + "\n")

# Rich styles of stances and event kinds, in every table and feed the command line prints.
STYLE: dict[str, str] = {
    Stance.SIGNED: "green", Stance.DECLINED: "red", Stance.WITHDRAWN: "yellow", Stance.NONE: "dim",
    EventKind.STATEMENT: "cyan", EventKind.RETRACTED: "magenta",
}
SYMBOL: dict[str, str] = {Stance.SIGNED: "✓", Stance.DECLINED: "✗", Stance.WITHDRAWN: "↩", Stance.NONE: "·"}


def style(kind: str) -> str:
    """The style of a stance or event kind (plain white for the others: hosted, published)."""
    return STYLE.get(kind, "white")


# What a store that cannot be reached or opened raises, at the first connection or later.
STORE_ERRORS = (psycopg.OperationalError, psycopg_pool.PoolTimeout, sqlite3.OperationalError)
# SQLSTATE classes of a server that cannot take the command at all: connection exceptions, shutting down or
# starting, no such database. Any other state came from a server that answered.
CANNOT_ANSWER = ("08", "57P", "3D")


def unreachable(settings: Settings, error: Exception) -> str:
    """Which store could not be used, and why, in one line (never the password of DIPLO_DATABASE_URL)."""
    lines = str(error).strip().splitlines()
    why = lines[0] if lines else type(error).__name__
    if settings.database_url is None:
        return f"the SQLite store in {settings.data_dir} (DIPLO_DATA_DIR) cannot be opened: {why}"
    url = urlparse(settings.database_url)
    name = url.path.lstrip("/") or url.username or "postgres"
    where = f"the PostgreSQL database {name!r} at {url.hostname or 'localhost'}:{url.port or 5432} (DIPLO_DATABASE_URL)"
    if "database" in why and "does not exist" in why:
        # Creating it would take rights over the whole server, and would hide a misspelt name: say how instead.
        return (f"{where} does not exist. diplo creates its schema and tables, not the database: create it first "
                f"(createdb -h {url.hostname or 'localhost'} -p {url.port or 5432} -U {url.username or 'postgres'} "
                f"{name}, or CREATE DATABASE \"{name}\" in psql), then run the command again")
    state = getattr(error, "sqlstate", None)
    if state and not state.startswith(CANNOT_ANSWER):
        # The server answered: a deadlock or a failed statement is not an unreachable store.
        return f"{where} answered with an error ({state}), nothing was changed; try again: {why}"
    return f"{where} does not answer: {why}"


@contextmanager
def one_shot(*, catch_up: bool = True) -> Iterator[Runtime]:
    """The runtime of one command: no projector thread and no log follower; the read models first catch up
    with the log (unless the command reads the log itself, or catches up on its own). A store that cannot be
    reached is a one-line error and exit status 1, not a traceback."""
    settings = Settings()
    try:
        runtime = bootstrap(settings, start_projector=False, follow=False)
    except STORE_ERRORS as error:
        fail(unreachable(settings, error), 1)
    try:
        if catch_up:
            runtime.projector.catch_up()
        yield runtime
    except STORE_ERRORS as error:
        fail(unreachable(settings, error), 1)
    finally:
        runtime.close()


def day(value: datetime | None) -> date | None:
    """A date option (Typer parses dates as datetimes) as the date it names."""
    return value.date() if value is not None else None


def iso_day(value: datetime | None) -> str | None:
    """A date option as ISO 8601 text, as the read models compare dates."""
    return value.date().isoformat() if value is not None else None
