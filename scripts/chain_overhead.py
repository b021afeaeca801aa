"""Measures what the hash chain and the cipher cost: insert throughput with and without them, and how fast
`diplo verify` walks a log, on SQLite and PostgreSQL. Prints a Markdown table (no assertion anywhere).

    .venv/bin/python scripts/chain_overhead.py [--postgres postgresql://postgres@127.0.0.1:5432/test] [--rounds 3]

Each figure is the best of `--rounds` runs, the variants interleaved so that a busy machine slows them alike.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import psycopg
from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from pydantic import SecretStr

from api.settings import Settings
from domain.commands import HostSummit
from domain.parties import PartyRegistry
from domain.service import DiplomaticRecord
from domain.values import Confidence, Source
from seeds.organisations import load_organisations
from storage.chain import verify
from storage.log import open_chained_log

STATE = b'{"party": "GB", "kind": "declined", "sources": [{"title": "x", "url": "https://example.org/"}]}' * 6


@contextlib.contextmanager
def store(backend: str, url: str) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory() as where:
        schema = f"m_{uuid.uuid4().hex[:12]}"
        settings = Settings(data_dir=Path(where), database_url=url if backend == "postgres" else None,
                            database_schema=schema)
        if backend == "postgres":
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield settings
        finally:
            if backend == "postgres":
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def recorder_rate(settings: Settings, chained: bool, batch: int, events: int) -> float:
    env = settings.eventsourcing_env()
    if not chained:
        env["APPLICATION_RECORDER_TOPIC"] = ""
    app = DiplomaticRecord(env, parties=PartyRegistry(load_organisations()))
    recorder: ApplicationRecorder = app.recorder
    try:
        started = time.perf_counter()
        for _ in range(events // batch):
            recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "bench:Event", STATE) for _ in range(batch)])
        return events / (time.perf_counter() - started)
    finally:
        app.close()


def command_rate(settings: Settings, commands: int) -> float:
    app = DiplomaticRecord(settings.eventsourcing_env(), parties=PartyRegistry(load_organisations()))
    sources = [Source("Wire report", "https://example.org/wire")]
    try:
        started = time.perf_counter()
        for i in range(commands):
            app.handle(HostSummit(id=f"s-{uuid.uuid4().hex[:8]}-{i}", name="Summit", hosts=["FR"], city="Paris",
                            starts_on=date(2025, 2, 10), ends_on=date(2025, 2, 11), sources=sources,
                            confidence=Confidence.HIGH))
        return commands / (time.perf_counter() - started)
    finally:
        app.close()


def verify_rate(settings: Settings) -> tuple[float, int]:
    with open_chained_log("diplo", settings.eventsourcing_env()) as recorder:
        started = time.perf_counter()
        report = verify(recorder)
        assert report.ok
        return report.linked / (time.perf_counter() - started), report.linked


def best(rounds: int, measure: Callable[[], float]) -> float:
    return max(measure() for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    key = SecretStr(AESCipher.create_key(32))
    print("| backend | what | plain | with the chain | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    for backend in ("sqlite", "postgres"):
        singles = 1500 if backend == "sqlite" else 600
        for batch, events in ((1, singles), (100, 20_000)):
            figures: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(args.rounds):
                for chained in (False, True):
                    with store(backend, args.postgres) as settings:
                        figures[chained].append(recorder_rate(settings, chained, batch, events))
            plain, chained_rate = max(figures[False]), max(figures[True])
            print(f"| {backend} | insert, {batch} event(s) a transaction (events/s) | {plain:,.0f} | "
                  f"{chained_rate:,.0f} | {chained_rate / plain:.2f} |")
        cipher: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.rounds):
            for encrypted in (False, True):
                with store(backend, args.postgres) as settings:
                    if encrypted:
                        settings = settings.model_copy(update={"cipher_key": key})
                    cipher[encrypted].append(command_rate(settings, 200 if backend == "sqlite" else 100))
        plain, secret = max(cipher[False]), max(cipher[True])
        print(f"| {backend} | commands through the service, chained, without / with encryption (commands/s) | "
              f"{plain:,.0f} | {secret:,.0f} (encrypted) | {secret / plain:.2f} |")
        with store(backend, args.postgres) as settings:
            recorder_rate(settings, True, 100, 100_000)
            rates = [verify_rate(settings) for _ in range(args.rounds)]
        print(f"| {backend} | `diplo verify` over {rates[0][1]:,} events (events/s) | — | "
              f"{statistics.median(r for r, _ in rates):,.0f} | — |")


if __name__ == "__main__":
    main()
