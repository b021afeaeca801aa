"""Small value types shared by the aggregates: the record's vocabularies (act kinds, stances, event kinds,
confidence, precision, positions), sources, ids and dates.

Each vocabulary is defined here once, as a StrEnum: the rest of the code (SQL, filters, request and response
schemas, the command line) builds what it needs from these, so a new kind is added in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from hashlib import sha1
from typing import Any
from uuid import UUID

from domain.errors import InvalidInput

# Fixed namespace: ids derived from slugs and versions must never change between releases.
NAMESPACE = UUID("6f1d2c1e-4a63-5b1e-9a52-2f3e0d7c8b41")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HTTP_URL = re.compile(r"^https?://\S+$")


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# Each level counts every act at or above it: `medium` counts medium and high.
CONFIDENCE_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}


def at_least(confidence: str, minimum: str) -> bool:
    """Whether an act of this confidence counts for a reader asking for `minimum` or better."""
    return CONFIDENCE_RANK[Confidence(confidence)] >= CONFIDENCE_RANK[Confidence(minimum)]


class Precision(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


def period_start(day: date, precision: str) -> date:
    """The first day of the period an act is known to: the day itself, its month, or its year."""
    # Compared as strings (a StrEnum equals its value): constructing the enum per call was a
    # measurable share of a bulk import.
    if precision == Precision.DAY:
        return day
    if precision == Precision.MONTH:
        return day.replace(day=1)
    if precision == Precision.YEAR:
        return date(day.year, 1, 1)
    raise ValueError(f"{precision!r} is not a valid Precision")


def period_end(day: date, precision: str) -> date:
    """The last day of the period an act is known to."""
    match Precision(precision):
        case Precision.DAY:
            return day
        case Precision.MONTH:
            return date(day.year, 12, 31) if day.month == 12 else date(day.year, day.month + 1, 1) - timedelta(days=1)
        case Precision.YEAR:
            return date(day.year, 12, 31)


def effective_on(occurred_on: date, precision: str, published_on: date | None = None) -> date:
    """The date from which an act counts, in the stance rules and in every read model alike.

    An act known only to its month or year counts from the first day of that period; when that day
    is before the declaration's publication (the period includes it), the act counts from the
    publication date instead. A statement has no publication date to respect.
    """
    start = period_start(occurred_on, precision)
    return max(start, published_on) if published_on is not None else start


def is_approximate(precision: str) -> bool:
    """An act known only to its month or year; every answer that carries it says so."""
    return Precision(precision) is not Precision.DAY


class ActKind(StrEnum):
    """The formal acts a party can take on a declaration; each sets the stance of the same name."""

    SIGNED = "signed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


ACT_KINDS = frozenset(ActKind)  # for `kind in ACT_KINDS` on plain strings (Enum's `in` refuses them before 3.12)


class Stance(StrEnum):
    """A party's formal position on a declaration at a date: the kind of the act that set it, or none."""

    SIGNED = ActKind.SIGNED.value
    DECLINED = ActKind.DECLINED.value
    WITHDRAWN = ActKind.WITHDRAWN.value
    NONE = "none"


class EventKind(StrEnum):
    """What a public event records: the `kind` of the event log, the live stream, the timeline and receipts."""

    HOSTED = "hosted"
    PUBLISHED = "published"
    SIGNED = ActKind.SIGNED.value
    DECLINED = ActKind.DECLINED.value
    WITHDRAWN = ActKind.WITHDRAWN.value
    STATEMENT = "statement"
    RETRACTED = "retracted"
    ROLLCALL = "rollcall"  # a roll call held, with the votes it records
    VOTE = "vote"  # votes recorded after their roll call
    CORRECTED = "corrected"  # a roll call's details corrected
    RELEASE = "release"  # a release of a data set loaded


class TimelineKind(StrEnum):
    """What the timeline and a party's history list: every act but retractions, which mark what they retract; a
    roll call's votes each on their own."""

    HOSTED = EventKind.HOSTED.value
    PUBLISHED = EventKind.PUBLISHED.value
    SIGNED = EventKind.SIGNED.value
    DECLINED = EventKind.DECLINED.value
    WITHDRAWN = EventKind.WITHDRAWN.value
    STATEMENT = EventKind.STATEMENT.value
    VOTE = EventKind.VOTE.value  # a party's vote in a roll call


class Position(StrEnum):
    """A statement's position on a declaration; it never changes a formal stance."""

    SUPPORTS = "supports"
    OPPOSES = "opposes"
    NEUTRAL = "neutral"


class Vote(StrEnum):
    """A party's vote in a roll call; `absent` only where the source records absence."""

    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"
    ABSENT = "absent"


# The votes cast: shares and agreement count these; an absence is no vote on the text.
CAST = frozenset({Vote.YES, Vote.NO, Vote.ABSTAIN})


class Period(StrEnum):
    """How vote shares and agreement are grouped in time: `1995`, session `50`, `1990s`."""

    YEAR = "year"
    SESSION = "session"
    DECADE = "decade"


class Body(StrEnum):
    """The bodies whose roll calls the record holds."""

    UNGA = "UNGA"  # the UN General Assembly
    UNSC = "UNSC"  # the UN Security Council


class Issue(StrEnum):
    """The issue codes of the General Assembly data set (Voeten, Strezhnev and Bailey), by their short names."""

    ME = "me"
    NU = "nu"
    DI = "di"
    HR = "hr"
    CO = "co"
    EC = "ec"


ISSUE_NAMES = {
    Issue.ME: "Palestinian conflict",
    Issue.NU: "Nuclear weapons and nuclear material",
    Issue.DI: "Arms control and disarmament",
    Issue.HR: "Human rights",
    Issue.CO: "Colonialism",
    Issue.EC: "Economic development",
}


def issue_named(text: str, field: str = "issue") -> Issue:
    """An issue by its short code (`hr`) or its name (`Human rights`), in any case."""
    wanted = text.strip().lower()
    for issue, name in ISSUE_NAMES.items():
        if wanted in (issue.value, name.lower()):
            return issue
    known = ", ".join(f"{i.value} ({n})" for i, n in ISSUE_NAMES.items())
    raise InvalidInput(f"unknown issue {text!r}: use one of {known}", field=field)


@dataclass(frozen=True)
class Source:
    """Where an act is reported."""

    title: str
    url: str
    outlet: str | None = None
    published_on: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "url": self.url,
            "outlet": self.outlet,
            "published_on": self.published_on.isoformat() if self.published_on else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        published = data.get("published_on")
        return cls(
            title=data["title"],
            url=data["url"],
            outlet=data.get("outlet"),
            published_on=date.fromisoformat(published) if isinstance(published, str) else published,
        )


_VERSION_BITS = (0xF000 << 64) | (0xC000 << 48)  # the version nibble and the variant's two bits
_VERSION_5 = (5 << 76) | (0x8000 << 48)


def uuid5(namespace: UUID, name: str) -> UUID:
    """`uuid.uuid5`, the same id (tests/unit/test_ids.py), in 60% of its time: the standard library builds it by
    `UUID(bytes=..., version=5)`, which checks and sets the bits one argument at a time; a bulk import names two
    events and an aggregate or two per command."""
    digest = sha1(namespace.bytes + name.encode("utf-8")).digest()
    return UUID(int=(int.from_bytes(digest[:16], "big") & ~_VERSION_BITS) | _VERSION_5)


@lru_cache(maxsize=8192)  # declarations and summits are named again by every act that cites them
def aggregate_id(kind: str, key: str) -> UUID:
    """Deterministic aggregate id: the same slug always names the same aggregate."""
    return unique_aggregate_id(kind, key)


def unique_aggregate_id(kind: str, key: str) -> UUID:
    """`aggregate_id` for a key named once or twice (an event's index entry, say): the same id, not cached, so a
    file of such keys does not push the slugs that are named again out of aggregate_id's cache."""
    return uuid5(NAMESPACE, f"{kind}:{key}")


def event_id_for(originator_id: UUID, version: int) -> UUID:
    """Deterministic, globally unique id of the event at `version` of an aggregate."""
    return uuid5(originator_id, str(version))


def check_slug(value: str, field: str) -> str:
    if not SLUG.match(value) or len(value) > 100:
        raise InvalidInput(
            f"{field} must be a slug of lower-case letters, digits and single hyphens "
            f"(at most 100 characters), got {value!r}",
            field=field,
        )
    return value


def check_sources(sources: list[Source], field: str = "sources") -> list[dict[str, Any]]:
    """Every act carries at least one source; returns their stored form."""
    if not sources:
        raise InvalidInput("at least one source is required", field=field)
    for i, source in enumerate(sources):
        if not source.title.strip():
            raise InvalidInput("a source needs a title", field=f"{field}[{i}].title")
        if not HTTP_URL.match(source.url):
            raise InvalidInput("a source url must be an http(s) URL", field=f"{field}[{i}].url")
    return [s.as_dict() for s in sources]


def today_utc() -> date:
    return datetime.now(UTC).date()


def check_not_future(day: date, field: str, today: date) -> None:
    if day > today:
        raise InvalidInput(
            f"{field} {day.isoformat()} is in the future (today is {today.isoformat()} UTC); "
            "the record holds acts that have happened",
            field=field,
        )
