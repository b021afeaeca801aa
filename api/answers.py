"""What the HTTP routes and the command line both ask: times parsed, filters checked, differences and replays
bounded, the store's health. Neither a route nor a command, so each can use it without importing the other."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from api.bootstrap import Runtime
from api.dates import moment
from api.filters import checked_filters, date_range
from domain.errors import InvalidInput
from domain.values import Confidence
from projections.analysis import Scope, count_frames, diff_knowledge_time, diff_valid_time
from projections.readmodel import timestamp
from projections.rollcall_diff import diff_rollcalls
from projections.store import Sql

MAX_FRAMES = 10_000


def parse_known_at(value: str | None, field: str = "known_at") -> str:
    """A datetime with a zone, or a date meaning the end of that day in UTC (api/dates.py); default now. A moment
    after now is now: the record cannot yet say what it will hold then, and the answer must echo a moment that
    reproduces it once later events arrive (docs/semantics.md, section 1)."""
    now = datetime.now(UTC)
    if value is None:
        return timestamp(now)
    try:
        return timestamp(min(moment(value, field), now))
    except OverflowError:
        raise InvalidInput(f"{field} {value!r} is out of range", field=field) from None


def parse_at(value: date | None) -> str:
    return (value or datetime.now(UTC).date()).isoformat()


def checked(runtime: Runtime, parties: list[str] | None, declarations: list[str] | None) -> tuple[
    tuple[str, ...], tuple[str, ...]
]:
    """The party codes and declaration ids a question is filtered by, each once, checked (api/filters.py).
    Declarations are looked up in a reading of their own, only when there are some (an export reads each of its
    pages in a reading of its own)."""
    found = checked_filters(runtime, parties=parties, declarations=declarations)
    return found.parties, found.declarations


def check_scope(runtime: Runtime, sql: Sql, parties: list[str] | None, declarations: list[str] | None,
                min_confidence: Confidence) -> Scope:
    """The filters of an analyst's question, checked as `checked` does, in the caller's reading, as a Scope."""
    found = checked_filters(runtime, sql, parties=parties, declarations=declarations)
    return Scope(found.parties, found.declarations, str(min_confidence))


def check_replay_range(date_from: date, date_to: date | None, step: str) -> date:
    """The replay's last day (default today), once the range and the number of frames are sound."""
    last = date_to or datetime.now(UTC).date()
    date_range(date_from, last)
    frames = count_frames(date_from, last, step)
    if frames > MAX_FRAMES:
        raise InvalidInput(f"a replay of {frames} frames is too long (at most {MAX_FRAMES}); use a longer step "
                           "or a shorter range", field="step")
    return last


def answer_diff(
    runtime: Runtime, sql: Sql, *, from_at: date | None, to_at: date | None, known_at: str | None, at: date | None,
    known_at_a: str | None, known_at_b: str | None, parties: list[str] | None, declarations: list[str] | None,
    min_confidence: Confidence,
) -> dict[str, Any]:
    """Checks which kind of difference is asked for, and answers it (the route and `diplo diff` alike)."""
    valid: dict[str, date | None] = {"from_at": from_at, "to_at": to_at}
    versions: dict[str, str | None] = {"known_at_a": known_at_a, "known_at_b": known_at_b}
    if any(v is not None for v in valid.values()) and any(v is not None for v in versions.values()):
        field = next(k for k, v in versions.items() if v is not None)
        raise InvalidInput(f"{field} cannot be mixed with from_at/to_at: compare two dates (from_at, to_at) "
                           "or two versions of the record (known_at_a, known_at_b), not both", field=field)
    scope = check_scope(runtime, sql, parties, declarations, min_confidence)
    if any(v is not None for v in versions.values()):
        if known_at is not None:
            raise InvalidInput("known_at is for differences between two dates; two versions of the record are "
                               "known_at_a and known_at_b", field="known_at")
        for name, moment in versions.items():
            if moment is None:
                raise InvalidInput(f"{name} is needed to compare two versions of the record", field=name)
        assert known_at_a is not None and known_at_b is not None
        a, b = parse_known_at(known_at_a, "known_at_a"), parse_known_at(known_at_b, "known_at_b")
        if a > b:
            raise InvalidInput(f"known_at_a {a} is after known_at_b {b}", field="known_at_a")
        at_s = parse_at(at)
        found = diff_knowledge_time(sql, at=at_s, known_at_a=a, known_at_b=b, scope=scope)
        rollcalls, counts = ([], None) if scope.declarations else diff_rollcalls(
            sql, at=at_s, known_at_a=a, known_at_b=b, parties=scope.parties, confidences=scope.confident())
        return {"kind": "knowledge_time", "at": at_s, "known_at_a": a, "known_at_b": b,
                "min_confidence": scope.min_confidence, "differences": found, "rollcalls": rollcalls,
                "rollcall_counts": counts}
    if at is not None:
        raise InvalidInput("at is for differences between two versions of the record; two dates are from_at "
                           "and to_at", field="at")
    for name, value in valid.items():
        if value is None:
            raise InvalidInput(f"{name} is needed: compare two dates (from_at, to_at) or two versions of the "
                               "record (known_at_a, known_at_b)", field=name)
    assert from_at is not None and to_at is not None
    date_range(from_at, to_at, ("from_at", "to_at"))
    known_s = parse_known_at(known_at)
    found = diff_valid_time(sql, from_at=from_at.isoformat(), to_at=to_at.isoformat(), known_at=known_s, scope=scope)
    return {"kind": "valid_time", "from_at": from_at.isoformat(), "to_at": to_at.isoformat(), "known_at": known_s,
            "min_confidence": scope.min_confidence, "differences": found}


def status(runtime: Runtime) -> dict[str, Any]:
    """Each read model's position against the head of the log; raises when a store does not answer."""
    head = runtime.projector.head()
    positions = runtime.projector.positions()
    position = min(positions.values())
    chain_head = getattr(runtime.app.recorder, "chain_head", None)  # the hash-chained recorders (storage/)
    link = chain_head() if chain_head is not None else None
    return {
        "status": "ok",
        "store": "up",
        "head": head,
        "position": position,
        "lag": head - position,
        "projector": runtime.settings.projector,
        "read_models": {name: {"position": p, "lag": head - p} for name, p in positions.items()},
        "chain": {"position": link[0], "hash": link[1].hex()} if link else None,
    }
