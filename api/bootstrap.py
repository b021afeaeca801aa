"""Builds the application and its read models from settings. Nothing happens at import time."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from api.settings import Settings
from domain.parties import PartyRegistry
from domain.service import DiplomaticRecord
from projections.event_log import Publications, PublicEvent
from projections.follower import LogFollower
from projections.private_files import write_private
from projections.projector import Projector
from projections.store import PostgresViewStore, SQLiteViewStore, ViewStore
from seeds.successions import load_registry
from storage.encryption import UnreadableLog, check_readable

# How long a PostgreSQL pool keeps retrying one lost connection (psycopg_pool's reconnect_timeout, 5 min by
# default) before giving it up. Its retries double their wait (1, 2, 4, … s), so after a long outage the
# next retry could come half a minute after the database is back. Given up sooner, a connection is opened
# afresh by the next request or projector page, so the API recovers as soon as the database answers.
RECONNECT_SECONDS = 5.0


@dataclass
class Runtime:
    settings: Settings
    parties: PartyRegistry
    app: DiplomaticRecord
    store: ViewStore
    projector: Projector
    follower: LogFollower
    write_tokens: list[str]

    def close(self) -> None:
        self.follower.stop()
        self.projector.stop()
        self.store.close()
        self.app.close()


def _create_schema(settings: Settings) -> None:
    import psycopg

    assert settings.database_url is not None
    # A twin process may create it at the same moment; either way it exists afterwards.
    with (
        psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as conn,
        contextlib.suppress(psycopg.errors.UniqueViolation),
    ):
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.database_schema}"')


def development_token(data_dir: Path) -> str:
    """A write token made on first use and kept under the data directory (0600), for local use only."""
    path = data_dir / "dev-write-token"
    write_private(path, secrets.token_urlsafe(24) + "\n")
    return path.read_text(encoding="utf-8").strip()


def development_token_to_show(data_dir: Path) -> str | None:
    """The development token the first time it is asked for here, None every time after: `diplo serve` prints
    it once (whichever command made it), then only says where it is kept."""
    token = development_token(data_dir)
    return token if write_private(data_dir / "dev-write-token.shown", "") else None


def bootstrap(settings: Settings, *, start_projector: bool = True, follow: bool = True) -> Runtime:
    """The one place the pieces are wired: store, application, read models, projector, log follower.

    `start_projector` runs the read models in a thread of this process, unless the settings leave
    them to `diplo project`; `follow` starts the one reader of new events that wakes the projector
    and feeds the live stream (the CLI's one-shot commands need neither).
    """
    parties = load_registry()
    if settings.uses_postgres:
        _create_schema(settings)
        store: ViewStore = PostgresViewStore(settings.database_url or "", settings.views_schema,
                                             reconnect_timeout=RECONNECT_SECONDS)
    else:
        store = SQLiteViewStore(settings.views_path())
    app = DiplomaticRecord(settings.eventsourcing_env(), parties=parties)
    if settings.uses_postgres:  # eventsourcing does not take the pool's reconnect_timeout from its settings
        app.recorder.datastore.pool.reconnect_timeout = RECONNECT_SECONDS  # type: ignore[attr-defined]
    try:
        check_readable(app.recorder, app.mapper)  # a wrong DIPLO_CIPHER_KEY stops the start, not a first read
    except UnreadableLog:
        app.close()
        store.close()
        raise
    projector = Projector(app.recorder, app.mapper, store, page_size=settings.page_size,
                          max_page_size=settings.max_page_size, poll_interval=max(settings.poll_interval, 1.0))
    follower = LogFollower(app.recorder, app.mapper, Publications(app.published_on),
                           poll_interval=settings.poll_interval, page_size=settings.page_size)

    def wake_projector(_events: Sequence[PublicEvent], _position: int) -> None:
        projector.wake()

    follower.listeners.append(wake_projector)
    app.after_save.extend([projector.wake, follower.wake])
    if start_projector and settings.projector == "inprocess":
        projector.catch_up()
        projector.start()
    if follow:
        follower.start()
    tokens = settings.write_token_list or [development_token(settings.data_dir)]
    return Runtime(settings, parties, app, store, projector, follower, tokens)
