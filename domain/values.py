"""Small value types shared by the aggregates: sources, confidence, precision, ids and dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from domain.errors import InvalidInput

# Fixed namespace: ids derived from slugs and versions must never change between releases.
NAMESPACE = UUID("6f1d2c1e-4a63-5b1e-9a52-2f3e0d7c8b41")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Precision(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class ActKind(StrEnum):
    """The formal acts a party can take on a declaration."""

    SIGNED = "signed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Position(StrEnum):
    """A statement's position on a declaration; it never changes a formal stance."""

    SUPPORTS = "supports"
    OPPOSES = "opposes"
    NEUTRAL = "neutral"


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


def aggregate_id(kind: str, key: str) -> UUID:
    """Deterministic aggregate id: the same slug always names the same aggregate."""
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
        if not re.match(r"^https?://\S+$", source.url):
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
