"""Opens the event log's recorder alone, without the application: enough to verify the chain, and no
cipher key needed (the chain covers the stored bytes, encrypted or not)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from storage.chain import ChainedRecorder
from storage.postgres import ChainedPostgresApplicationRecorder
from storage.sqlite import ChainedSQLiteApplicationRecorder


@contextmanager
def open_chained_log(app_name: str, env: Mapping[str, str]) -> Iterator[ChainedRecorder]:
    """The recorder an application named `app_name` would use with `env` (read the way it reads it)."""
    factory = InfrastructureFactory.construct(Environment(app_name, {**os.environ, **env}))
    try:
        recorder = factory.application_recorder()
        if not isinstance(recorder, ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder):
            raise TypeError(f"{type(recorder).__name__} keeps no hash chain: set APPLICATION_RECORDER_TOPIC")
        yield recorder
    finally:
        factory.close()
