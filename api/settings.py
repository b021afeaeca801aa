"""One settings object: environment variables in, eventsourcing's environment out, in one place."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlparse

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from projections.private_files import private_dir, private_file


def _split(value: str | None) -> list[str]:
    return [t.strip() for t in (value or "").split(",") if t.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIPLO_", extra="ignore")

    data_dir: Path = Field(Path("./var"), description="Where the embedded SQLite stores live.")
    database_url: str | None = Field(None, description="postgresql://user:pass@host:port/db; SQLite when unset.")
    database_schema: str = Field("public", description="PostgreSQL schema for the events and read models.")
    cipher_key: SecretStr | None = Field(
        None, description="Base64 AES key (16, 24 or 32 bytes): event payloads are stored encrypted when set."
    )
    write_tokens: str | None = Field(None, description="Comma-separated bearer tokens allowed to write.")
    read_tokens: str | None = Field(None, description="Comma-separated bearer tokens; reads are open when unset.")
    write_wait_seconds: float = Field(2.0, ge=0, description="How long a write waits for the read models.")
    page_size: int = Field(500, ge=1, le=10_000, description="Events per projector transaction once caught up;"
                           " while catching up, pages double up to max_page_size.")
    max_page_size: int = Field(5000, ge=1, le=100_000, description="The largest projector page, while catching up.")
    projector: Literal["inprocess", "external"] = Field(
        "inprocess", description="inprocess: the API runs the read models; external: `diplo project` does."
    )
    poll_interval: float = Field(0.1, gt=0, le=10, description="SQLite: how often other processes' writes are polled.")
    stream_buffer: int = Field(1000, ge=1, le=1_000_000, description="Events buffered per stream subscriber.")
    stream_heartbeat_seconds: float = Field(15.0, gt=0, description="Idle stream heartbeat interval.")
    stream_retry_ms: int = Field(2000, ge=0, description="The retry hint sent to stream clients.")
    shutdown_grace_seconds: int = Field(3, ge=0, le=600, description="How long open streams may delay a shutdown.")
    max_body_bytes: int = Field(1_048_576, ge=1, description="Largest request body accepted; larger ones are 413.")
    cors_origins: str | None = Field(
        None, description="Comma-separated origins allowed by CORS (`*` for any); unset: no cross-origin access."
    )
    log_format: Literal["plain", "json"] = Field(
        "plain", description="plain: one readable line per record (for a terminal); json: one JSON object a line."
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="The lowest level logged."
    )
    metrics_tokens: str | None = Field(
        None, description="Comma-separated bearer tokens for /metrics alone; unset: /metrics is guarded like reads."
    )
    ready_max_lag: int | None = Field(
        10_000, ge=0, description="/readyz fails while a read model is more than this many events behind the log;"
        " unset (empty): lag is not judged."
    )
    # -- what an anonymous crowd can hold (docs/operations.md, "Limits under load") --
    header_timeout_seconds: float = Field(10.0, gt=0, le=600, description="A request's headers must be complete "
                                          "within this long of its first byte, else the connection is closed.")
    keep_alive_seconds: int = Field(5, ge=1, le=600, description="An idle connection between requests is closed "
                                    "after this long (uvicorn's timeout_keep_alive).")
    write_stall_seconds: float = Field(30.0, gt=0, le=3600, description="A client that takes nothing of its answer "
                                       "(a stream, a download) for this long is disconnected.")
    max_connections: int = Field(2000, ge=1, description="Open connections beyond this are answered 503 "
                                 "(uvicorn's limit_concurrency).")
    max_streams: int = Field(1000, ge=1, description="Concurrent event streams; beyond it, 503 with Retry-After.")
    max_streams_per_client: int = Field(50, ge=1, description="Concurrent event streams of one client address; "
                                        "beyond it, 429 with Retry-After.")
    max_exports: int = Field(4, ge=1, description="Concurrent downloads of /v1/export; beyond it, 503 with "
                             "Retry-After. They run on threads of their own, never the ones reads and writes use.")
    backup_key: SecretStr | None = Field(
        None, description="Signs backups (diplo export --all, an HMAC-SHA256 in the end line); diplo import then "
        "refuses one without a matching signature.")
    chain_check: Literal["full", "tail", "off"] = Field(
        "full", description="At start, check the hash chain's last links (tail), then the whole chain in the "
        "background (full); a broken chain makes the server refuse writes. off: neither.")
    chain_tail_events: int = Field(1000, ge=1, le=1_000_000, description="How many of the last links the check "
                                   "at start covers.")
    rollcall_cache_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="Memory for answers of GET /v1/rollcalls/{id} kept encoded between "
        "requests (each about 100 KB; least recently used dropped first); 0: read and encode every one.")
    max_exports_per_client: int = Field(2, ge=1, description="Concurrent downloads of one client address; beyond "
                                        "it, 429 with Retry-After.")
    lean_routes: bool = Field(
        True, description="Serve the busiest reads (one party's stances, a declaration's signatories, one roll call) "
        "through lean handlers (api/lean_routes.py); false: through FastAPI's standard one (same answers, slower).")

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value and urlparse(value).scheme not in ("postgresql", "postgres"):
            raise ValueError("DIPLO_DATABASE_URL must be a postgresql:// URL")
        return value or None

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("ready_max_lag", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cipher_key")
    @classmethod
    def _aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        try:
            size = len(base64.b64decode(value.get_secret_value(), validate=True))
        except ValueError:
            raise ValueError("DIPLO_CIPHER_KEY must be base64 (make one with AESCipher.create_key(32))") from None
        if size not in (16, 24, 32):
            raise ValueError(f"DIPLO_CIPHER_KEY must decode to 16, 24 or 32 bytes, not {size}")
        return value

    @property
    def backup_key_bytes(self) -> bytes | None:
        value = self.backup_key.get_secret_value() if self.backup_key else ""
        return value.encode("utf-8") if value else None

    @property
    def write_token_list(self) -> list[str]:
        return _split(self.write_tokens)

    @property
    def read_token_list(self) -> list[str]:
        return _split(self.read_tokens)

    @property
    def metrics_token_list(self) -> list[str]:
        return _split(self.metrics_tokens)

    @property
    def cors_origin_list(self) -> list[str]:
        return _split(self.cors_origins)

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment eventsourcing's factories read, built from our settings."""
        key = self.cipher_key.get_secret_value() if self.cipher_key else ""
        # eventsourcing reads DIPLO_CIPHER_KEY (the app's name as prefix) before CIPHER_KEY, straight from
        # os.environ: pin it here, empty when off, so these settings alone decide whether to encrypt.
        cipher = {"CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": key} if key else {}
        cipher["DIPLO_CIPHER_KEY"] = key
        # The stored format is eventsourcing's JSON; orjson reads and writes it (storage/json_codec.py).
        cipher["TRANSCODER_TOPIC"] = "storage.json_codec:FastJSONTranscoder"
        if self.database_url is None:
            private_dir(self.data_dir)
            return {
                **cipher,
                "APPLICATION_RECORDER_TOPIC": "storage.sqlite:ChainedSQLiteApplicationRecorder",
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(private_file(self.data_dir / "events.sqlite3")),
                "SQLITE_LOCK_TIMEOUT": "30",
                "CREATE_TABLE": "y",
            }
        url = urlparse(self.database_url)
        return {
            **cipher,
            "APPLICATION_RECORDER_TOPIC": "storage.postgres:ChainedPostgresApplicationRecorder",
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": url.hostname or "localhost",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_SCHEMA": self.database_schema,
            # How long to wait for a pooled connection. eventsourcing tries a statement 10 times, so
            # during an outage a request is answered 503 after about 12 s, not a minute (test_faults).
            "POSTGRES_CONNECT_TIMEOUT": "1",
            "POSTGRES_PRE_PING": "y",
            "CREATE_TABLE": "y",
        }

    @property
    def views_schema(self) -> str:
        """PostgreSQL: the read models' own schema, swapped whole when rebuilt."""
        return f"{self.database_schema}_views"

    def views_path(self) -> Path:
        return self.data_dir / "views.sqlite3"
