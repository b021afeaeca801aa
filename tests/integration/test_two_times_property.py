"""The two times, as a property: whatever acts and retractions arrive, in whatever order, the stance read models
answer every (at, known_at) exactly as a brute-force fold over the stored events does.

Each example needs an empty store, so the runtime is built inside the example (a fresh directory on SQLite,
a fresh schema on PostgreSQL) and closed and dropped after it.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from domain.commands import PublishDeclaration, RecordAct, Retract
from domain.declaration import Declaration
from domain.errors import DomainError
from domain.values import ActKind, Confidence
from projections.readmodel import timestamp
from projections.stance_history import signatories, stances_of
from tests.factories import SOURCES

PARTIES = ("US", "GB", "FR")
# The second declaration is published in April, so acts dated before it are refused.
DECLARATIONS = {"decl-a": date(2025, 1, 1), "decl-b": date(2025, 4, 1)}
# A few fixed days make same-day acts (and their tie-break by position) common.
COMMON_DAYS = [date(2025, 1, 15), date(2025, 4, 1), date(2025, 6, 30), date(2025, 6, 30), date(2025, 11, 2)]

days = st.one_of(st.sampled_from(COMMON_DAYS), st.dates(date(2025, 1, 1), date(2025, 12, 31)))
act_commands = st.tuples(
    st.just("act"),
    st.sampled_from([ActKind.SIGNED, ActKind.DECLINED, ActKind.WITHDRAWN]),
    st.sampled_from(PARTIES),
    st.sampled_from(sorted(DECLARATIONS)),
    days,
)
retract_commands = st.tuples(st.just("retract"), st.integers(min_value=0, max_value=1000))
# Acts and retractions in one random order (a retraction before any accepted act is skipped).
command_lists = st.tuples(
    st.lists(act_commands, min_size=3, max_size=24), st.lists(retract_commands, min_size=0, max_size=8)
).flatmap(lambda parts: st.permutations(parts[0] + parts[1]))


@contextmanager
def fresh_runtime(template: Settings) -> Iterator[Runtime]:
    """An empty store of the template's backend: a new directory, and on PostgreSQL a new schema."""
    with tempfile.TemporaryDirectory(prefix="diplo-prop-") as tmp:
        schema = f"p_{uuid.uuid4().hex[:12]}"
        settings = template.model_copy(update={"data_dir": Path(tmp), "database_schema": schema})
        runtime = bootstrap(settings, start_projector=False)
        try:
            yield runtime
        finally:
            runtime.close()
            if settings.database_url is not None:
                with psycopg.connect(settings.database_url, autocommit=True) as conn:
                    for doomed in (schema, f"{schema}_views"):
                        conn.execute(f'DROP SCHEMA IF EXISTS "{doomed}" CASCADE')


def apply_commands(runtime: Runtime, commands: list[tuple[Any, ...]]) -> int:
    """Runs the commands through the application service; refused ones store nothing and are skipped."""
    app = runtime.app
    for slug, published_on in DECLARATIONS.items():
        app.handle(PublishDeclaration(id=slug, title=slug, published_on=published_on, sources=SOURCES,
                                confidence=Confidence.HIGH))
    accepted: list[UUID] = []
    refused = 0
    for command in commands:
        try:
            if command[0] == "act":
                _, kind, party, declaration_id, occurred_on = command
                receipt = app.handle(RecordAct(declaration_id=declaration_id, kind=kind, party=party,
                                         occurred_on=occurred_on, sources=SOURCES, confidence=Confidence.HIGH))
                accepted.append(receipt.event_id)
            elif accepted:
                target = accepted[command[1] % len(accepted)]
                app.handle(Retract(event_id=target, reason="a correction", sources=SOURCES))
        except DomainError:
            refused += 1
    return refused


@dataclass(frozen=True)
class StoredAct:
    event_id: str
    party: str
    declaration_id: str
    kind: str
    occurred_on: str
    position: int
    recorded_at: str


def stored_history(runtime: Runtime) -> tuple[list[StoredAct], dict[str, str], list[str]]:
    """Every stored act, when each retraction was recorded (by target), and every recorded_at in the log."""
    app = runtime.app
    acts: list[StoredAct] = []
    retracted_at: dict[str, str] = {}
    recorded: list[str] = []
    for notification in app.recorder.select_notifications(start=0, limit=10**6):
        event = app.mapper.to_domain_event(notification)
        recorded_at = timestamp(event.timestamp)
        recorded.append(recorded_at)
        if isinstance(event, Declaration.ActRecorded):
            acts.append(StoredAct(str(event.event_id), event.party, event.declaration_id, str(event.kind),
                                  event.occurred_on.isoformat(), notification.id, recorded_at))
        elif isinstance(event, Declaration.Retracted):
            retracted_at[str(event.target_event_id)] = recorded_at
    return acts, retracted_at, recorded


def fold(acts: list[StoredAct], retracted_at: dict[str, str], at: str, known_at: str) -> dict[tuple[str, str], Any]:
    """The brute-force answer: per (party, declaration), the last counting act in (occurred_on, position) order."""
    counting = [
        a for a in acts
        if a.recorded_at <= known_at and a.occurred_on <= at
        and not (a.event_id in retracted_at and retracted_at[a.event_id] <= known_at)
    ]
    last: dict[tuple[str, str], StoredAct] = {}
    for act in sorted(counting, key=lambda a: (a.occurred_on, a.position)):
        last[(act.party, act.declaration_id)] = act
    return {pair: (a.kind, a.occurred_on, a.event_id) for pair, a in last.items()}


def grid(acts: list[StoredAct], recorded: list[str]) -> tuple[list[str], list[str]]:
    """Valid dates around every act's day; recording instants before, at and just before every event, and now."""
    ats = {"2024-12-31", "2025-12-31", "2026-06-01"}
    for act in acts:
        day = date.fromisoformat(act.occurred_on)
        ats |= {day.isoformat(), (day - timedelta(days=1)).isoformat()}
    known_ats = {timestamp(datetime.now(UTC))}
    for moment in recorded:
        instant = datetime.fromisoformat(moment)
        known_ats |= {moment, timestamp(instant - timedelta(microseconds=1))}
    known_ats.add(timestamp(datetime.fromisoformat(min(recorded)) - timedelta(seconds=1)))
    return sorted(ats), sorted(known_ats)


def check_both_times(runtime: Runtime) -> int:
    acts, retracted_at, recorded = stored_history(runtime)
    ats, known_ats = grid(acts, recorded)
    compared = 0
    with runtime.store.reading() as sql:
        for known_at in known_ats:
            for at in ats:
                expected = fold(acts, retracted_at, at, known_at)
                for party in PARTIES:
                    got = {r["declaration_id"]: (r["stance"], r["since"], r["event_id"])
                           for r in stances_of(sql, party, at, known_at)}
                    want = {d: v for (p, d), v in expected.items() if p == party}
                    assert got == want, f"stances_of({party!r}, at={at}, known_at={known_at})"
                for declaration_id in DECLARATIONS:
                    rows = signatories(sql, declaration_id, at, known_at)
                    got = {r["party"]: (r["stance"], r["since"], r["event_id"]) for r in rows}
                    assert len(got) == len(rows), f"a party listed twice: {rows}"
                    want = {p: v for (p, d), v in expected.items() if d == declaration_id}
                    assert got == want, f"signatories({declaration_id!r}, at={at}, known_at={known_at})"
                compared += 1
    return compared


def check_against_the_aggregate(runtime: Runtime) -> None:
    """At known_at=now the read model also agrees with the domain's own stance_of, on every act's day."""
    acts, _, _ = stored_history(runtime)
    now = timestamp(datetime.now(UTC))
    days_seen = sorted({a.occurred_on for a in acts} | {"2025-12-31"})
    with runtime.store.reading() as sql:
        for declaration_id in DECLARATIONS:
            declaration = runtime.app.declaration(declaration_id)
            for day in days_seen:
                rows = {r["party"]: r for r in signatories(sql, declaration_id, day, now)}
                for party in PARTIES:
                    act = declaration.stance_of(party, date.fromisoformat(day))
                    got = rows.get(party)
                    assert (got and (got["stance"], got["since"], got["event_id"])) == (
                        act and (str(act.kind), act.occurred_on.isoformat(), str(act.event_id))
                    ), f"{party} on {declaration_id} at {day}"


def test_stances_at_every_valid_date_and_recording_instant_equal_a_brute_force_fold_of_the_stored_events(
    backend: str, settings: Settings
) -> None:
    @hypothesis_settings(
        max_examples=25 if backend == "sqlite" else 10,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(commands=command_lists)
    def both_times_agree(commands: list[tuple[Any, ...]]) -> None:
        with fresh_runtime(settings) as runtime:
            apply_commands(runtime, commands)
            runtime.projector.catch_up()
            assert runtime.projector.position() == runtime.projector.head()
            assert check_both_times(runtime) > 0
            check_against_the_aggregate(runtime)

    both_times_agree()
