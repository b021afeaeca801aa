"""Encryption at rest: with DIPLO_CIPHER_KEY set, event payloads are stored AES-GCM encrypted (eventsourcing's
cipher), the API answers exactly as it does over a plain store, and a wrong key stops the start with a clear
error instead of serving garbage. The hash chain covers the encrypted bytes, so it verifies without the key."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.cipher import AESCipher
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from api import cli
from api.app import create_app
from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from domain.commands import HostSummit
from domain.values import Confidence
from seeds.loader import seed
from storage.chain import verify
from storage.encryption import UnreadableLog
from storage.log import open_chained_log
from tests.factories import SOURCES

PLAINTEXT = (b"paris-statement", b"Vance", b"Bletchley", b"declined")
READS = [
    "/v1/parties/US/stances?at=2025-02-12",
    "/v1/parties/GB/stances?at=2025-02-12",
    "/v1/declarations/paris-statement/signatories?at=2025-02-12",
    "/v1/declarations/bletchley-declaration/signatories?at=2024-12-31",
    "/v1/parties/US/history",
    "/v1/declarations",
    "/v1/summits/paris-2025",
    "/v1/timeline?declaration=paris-statement&limit=50",
    "/v1/events?after=0&limit=100",
]


def encrypted(settings: Settings, key: str | None = None) -> Settings:
    return settings.model_copy(update={"cipher_key": SecretStr(key or AESCipher.create_key(32))})


@pytest.fixture
def twin(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A second, empty store on the same backend as `settings`."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    twin = settings.model_copy(update={"data_dir": tmp_path / "twin", "database_schema": schema})
    yield twin
    if twin.database_url is not None:
        with psycopg.connect(twin.database_url, autocommit=True) as conn:
            for doomed in (schema, twin.views_schema):
                conn.execute(f'DROP SCHEMA IF EXISTS "{doomed}" CASCADE')


def raw_log(settings: Settings) -> list[bytes]:
    """Every column of every stored event, as bytes, read behind the application's back."""
    if settings.database_url is not None:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            rows: list[tuple[Any, ...]] = conn.execute(
                f'SELECT originator_id::text, topic, state FROM "{settings.database_schema}".diplo_events'
            ).fetchall()
    else:
        with sqlite3.connect(settings.data_dir / "events.sqlite3") as conn:
            rows = conn.execute("SELECT originator_id, topic, state FROM stored_events").fetchall()
    return [v if isinstance(v, bytes) else str(v).encode() for row in rows for v in row]


def without_times(value: Any) -> Any:
    """An answer with the wall-clock fields (when each store happened to record, or was asked) left out."""
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in ("recorded_at", "known_at")}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def answers(runtime: Runtime) -> dict[str, Any]:
    with TestClient(create_app(runtime=runtime)) as client:
        out = {}
        for path in READS:
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
            out[path] = without_times(response.json())
        return out


def seeded(settings: Settings) -> Runtime:
    runtime = bootstrap(settings)
    report = seed(runtime.app)
    assert runtime.projector.wait_for(report.last_position, 30)
    return runtime


def test_the_stored_log_holds_no_plaintext_and_the_api_answers_as_before(settings: Settings, twin: Settings) -> None:
    secret = encrypted(settings)
    runtime, plain = seeded(secret), seeded(twin)
    try:
        assert answers(runtime) == answers(plain)
    finally:
        runtime.close()
        plain.close()

    stored, control = raw_log(secret), raw_log(twin)
    assert len(stored) == len(control) > 1000
    for needle in PLAINTEXT:
        assert any(needle in value for value in control), needle  # the probe finds it where it is stored plain
        assert not any(needle in value for value in stored), needle

    # The chain covers the stored bytes: it verifies without the key.
    assert settings.cipher_key is None
    with open_chained_log("diplo", settings.eventsourcing_env()) as recorder:
        report = verify(recorder)
    assert report.ok and report.linked == len(stored) // 3


def write_a_little(settings: Settings) -> None:
    runtime = bootstrap(settings, start_projector=False, follow=False)
    try:
        runtime.app.handle(HostSummit(id="paris-2025", name="AI Action Summit", hosts=["FR", "IN"], city="Paris",
                                starts_on=date(2025, 2, 10), ends_on=date(2025, 2, 11), sources=SOURCES,
                                confidence=Confidence.HIGH))
    finally:
        runtime.close()


def test_a_wrong_key_stops_the_start_with_a_clear_error(settings: Settings) -> None:
    secret = encrypted(settings)
    write_a_little(secret)

    with pytest.raises(UnreadableLog, match="DIPLO_CIPHER_KEY does not decrypt it"):
        bootstrap(encrypted(settings), start_projector=False, follow=False)
    with pytest.raises(UnreadableLog, match="it may be encrypted: set DIPLO_CIPHER_KEY"):
        bootstrap(settings, start_projector=False, follow=False)
    with pytest.raises(UnreadableLog), TestClient(create_app(encrypted(settings))):
        pass  # the API's lifespan refuses to start
    bootstrap(secret, start_projector=False, follow=False).close()  # the right key still opens it


def test_a_key_on_a_store_written_without_one_is_refused(settings: Settings) -> None:
    write_a_little(settings)
    with pytest.raises(UnreadableLog, match="or these events were stored without encryption"):
        bootstrap(encrypted(settings), start_projector=False, follow=False)


def test_the_command_line_fails_loudly_with_a_wrong_key(settings: Settings) -> None:
    write_a_little(encrypted(settings))
    env = {"DIPLO_DATA_DIR": str(settings.data_dir), "DIPLO_CIPHER_KEY": AESCipher.create_key(32)}
    if settings.database_url is not None:
        env |= {"DIPLO_DATABASE_URL": settings.database_url, "DIPLO_DATABASE_SCHEMA": settings.database_schema}
    result = CliRunner().invoke(cli.app, ["status"], env=env)
    assert result.exit_code != 0
    assert isinstance(result.exception, UnreadableLog)


@pytest.mark.parametrize("key", ["not base64!", "c2hvcnQ=", AESCipher.create_key(16)[:-4]])
def test_a_malformed_key_is_refused_before_anything_opens(key: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DIPLO_CIPHER_KEY"):
        Settings(data_dir=tmp_path, cipher_key=key)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("size", [16, 24, 32])
def test_every_aes_key_size_works(size: int, tmp_path: Path) -> None:
    settings = encrypted(Settings(data_dir=tmp_path), AESCipher.create_key(size))
    write_a_little(settings)
    assert not any(b"Paris" in value for value in raw_log(settings))
    bootstrap(settings, start_projector=False, follow=False).close()


def test_settings_made_in_code_decide_even_when_the_environment_holds_a_key(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # eventsourcing would otherwise read DIPLO_CIPHER_KEY from os.environ by itself (the app is named diplo).
    monkeypatch.setenv("DIPLO_CIPHER_KEY", AESCipher.create_key(32))
    plain = Settings(data_dir=tmp_path, cipher_key=None)
    write_a_little(plain)
    assert any(b"Paris" in value for value in raw_log(plain))
