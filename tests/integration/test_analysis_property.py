"""Replays, as a property: whatever acts (exact or approximate, of any confidence) and retractions arrive,
in whatever order, folding a replay's frames one by one gives, at every frame, exactly the world the
world query answers independently at that frame's date, for every reader's confidence and version of
the record. Each frame's changes are made by acts listed among its events, and the current record
agrees with the domain's own stance rules, approximate acts included.

Every example writes declarations of its own into one store per backend, so no example sees another's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.bootstrap import Runtime
from domain.commands import PublishDeclaration, RecordAct, Retract
from domain.errors import DomainError
from domain.values import ActKind, Confidence, Precision
from projections.analysis import Scope, apply_frame, replay, world
from projections.readmodel import timestamp
from tests.factories import SOURCES

PARTIES = ("US", "GB", "FR")
PUBLISHED = (date(2025, 1, 1), date(2025, 4, 10))
COMMON_DAYS = [date(2025, 1, 15), date(2025, 4, 10), date(2025, 6, 30), date(2025, 6, 30), date(2025, 11, 2)]

acts = st.tuples(
    st.just("act"),
    st.sampled_from([ActKind.SIGNED, ActKind.DECLINED, ActKind.WITHDRAWN]),
    st.sampled_from(PARTIES),
    st.integers(min_value=0, max_value=len(PUBLISHED) - 1),
    st.one_of(st.sampled_from(COMMON_DAYS), st.dates(date(2025, 1, 1), date(2025, 12, 31))),
    st.sampled_from([Precision.DAY, Precision.DAY, Precision.MONTH, Precision.YEAR]),
    st.sampled_from([Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW]),
)
retractions = st.tuples(st.just("retract"), st.integers(min_value=0, max_value=1000))
commands = st.tuples(st.lists(acts, min_size=3, max_size=18), st.lists(retractions, max_size=6)).flatmap(
    lambda parts: st.permutations(parts[0] + parts[1])
)
# (step, first day, last day): ranges chosen so a replay has a handful to a few dozen frames.
replays = st.sampled_from([
    ("day", date(2025, 1, 10), date(2025, 2, 5)),
    ("week", date(2024, 12, 30), date(2025, 7, 9)),
    ("month", date(2024, 12, 15), date(2026, 1, 3)),
    ("quarter", date(2025, 2, 14), date(2025, 12, 31)),
    ("year", date(2024, 6, 1), date(2026, 2, 1)),
])


def record(runtime: Runtime, commands: list[tuple[Any, ...]]) -> list[str]:
    """Publishes this example's declarations, then runs the commands; refused ones store nothing."""
    app = runtime.app
    slugs = [f"prop-{uuid.uuid4().hex[:10]}" for _ in PUBLISHED]
    for slug, published_on in zip(slugs, PUBLISHED, strict=True):
        app.handle(PublishDeclaration(id=slug, title=slug, published_on=published_on, sources=SOURCES,
                                confidence=Confidence.HIGH))
    accepted: list[UUID] = []
    last = 0
    for command in commands:
        try:
            if command[0] == "act":
                _, kind, party, which, day, precision, confidence = command
                receipt = app.handle(RecordAct(declaration_id=slugs[which], kind=kind, party=party, occurred_on=day,
                                         precision=precision, sources=SOURCES, confidence=confidence))
                accepted.append(receipt.event_id)
            elif accepted:
                receipt = app.handle(Retract(event_id=accepted[command[1] % len(accepted)], reason="a correction",
                                      sources=SOURCES))
            else:
                continue
            last = max(last, receipt.last_position or 0)
        except DomainError:
            pass
    assert runtime.projector.wait_for(max(last, runtime.projector.head()), 30)
    return slugs


def versions_of_the_record(runtime: Runtime, slugs: list[str]) -> list[str]:
    """Now, and a moment just before a few of this example's acts and retractions were recorded."""
    with runtime.store.reading() as sql:
        rows = sql.rows(
            f"SELECT recorded_at, retracted_at FROM timeline WHERE declaration_id IN ({', '.join('?' for _ in slugs)})",
            slugs,
        )
    moments = sorted({r["recorded_at"] for r in rows} | {r["retracted_at"] for r in rows if r["retracted_at"]})
    picked = moments[len(moments) // 2::max(1, len(moments) // 3)]
    return [timestamp(datetime.now(UTC))] + [
        timestamp(datetime.fromisoformat(m) - timedelta(microseconds=1)) for m in picked
    ]


def the_aggregates_say(runtime: Runtime, scope: Scope, at: str) -> dict[Any, Any]:
    """What the domain's own stance rules give now, counting every act: the read models must agree."""
    found = {}
    for slug in scope.declarations:
        declaration = runtime.app.declaration(slug)
        for party in scope.parties or PARTIES:
            act = declaration.stance_of(party, date.fromisoformat(at))
            if act is not None:
                found[(party, slug)] = (str(act.kind), str(act.event_id))
    return found


def check_replay(runtime: Runtime, scope: Scope, known_at: str, step: str, first: date, last: date,
                 *, now: bool) -> int:
    state: dict[Any, Any] = {}
    frames = 0
    for frame in replay(runtime.store.reading, first=first, last=last, step=step, known_at=known_at, scope=scope):
        assert (frame["frame"] == 0) == (frame["state"] is not None)
        folded = apply_frame(state, frame)
        with runtime.store.reading() as sql:
            answer = world(sql, frame["at"], known_at, scope)
        expected = {(c["party"], c["declaration_id"]): (c["stance"], c["event_id"]) for c in answer["cells"]}
        assert folded == expected, f"frame {frame['period']} at {frame['at']}, {scope.min_confidence}, {known_at}"
        if now and scope.min_confidence == "low":
            assert expected == the_aggregates_say(runtime, scope, frame["at"]), f"the domain disagrees at {frame['at']}"
        listed = {e["event_id"] for e in frame["events"]}
        for event in frame["events"]:
            assert frame["starts_on"] <= event["effective_on"] <= frame["at"]
        if frame["frame"] > 0:
            assert all(c["event_id"] in listed for c in frame["changes"]), "a change without the act that made it"
        frames += 1
    return frames


def test_every_replay_frame_equals_the_world_at_its_date(runtime: Runtime, backend: str) -> None:
    @hypothesis_settings(
        max_examples=20 if backend == "sqlite" else 8,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(commands=commands, plan=replays, party_filter=st.booleans())
    def frames_agree(commands: list[tuple[Any, ...]], plan: tuple[str, date, date], party_filter: bool) -> None:
        slugs = record(runtime, commands)
        step, first, last = plan
        parties = ("US", "GB") if party_filter else ()
        checked = 0
        for i, known_at in enumerate(versions_of_the_record(runtime, slugs)):
            for level in ("low", "medium", "high"):
                checked += check_replay(runtime, Scope(parties, tuple(slugs), level), known_at, step, first, last,
                                        now=i == 0)
        assert checked > 0

    frames_agree()
