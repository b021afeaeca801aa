"""Summit: a meeting hosted by one or more parties, with a city and a date range."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import InvalidInput
from domain.events import RecordAggregate
from domain.values import aggregate_id, check_not_future, check_slug, event_id_for


class Summit(RecordAggregate):
    TOPIC = "diplo:Summit"

    class Event(Aggregate.Event):
        TOPIC = "diplo:Summit.Event"

    class Hosted(Event, Aggregate.Created):
        """A summit was held; its creation is the act of hosting it."""

        TOPIC = "diplo:Summit.Hosted"
        class_version = 1
        event_id: UUID
        slug: str
        name: str
        hosts: list[str]
        city: str
        starts_on: date
        ends_on: date
        notes: str | None
        sources: list[dict[str, Any]]
        confidence: str

        def apply(self, aggregate: Any) -> None:
            aggregate.slug = self.slug
            aggregate.name = self.name
            aggregate.hosts = list(self.hosts)
            aggregate.starts_on = self.starts_on

    if TYPE_CHECKING:  # set by the events' apply(); not dataclass fields
        slug: str
        name: str
        hosts: list[str]
        starts_on: date

    @staticmethod
    def id_for(slug: str) -> UUID:
        return aggregate_id("summit", slug)

    @classmethod
    def host(
        cls,
        *,
        slug: str,
        name: str,
        hosts: list[str],
        city: str,
        starts_on: date,
        ends_on: date,
        notes: str | None,
        sources: list[dict[str, Any]],
        confidence: str,
        today: date,
    ) -> Summit:
        check_slug(slug, "id")
        if not name.strip():
            raise InvalidInput("name must not be empty", field="name")
        if not city.strip():
            raise InvalidInput("city must not be empty", field="city")
        if not hosts:
            raise InvalidInput("a summit has at least one host", field="hosts")
        if len(set(hosts)) != len(hosts):
            raise InvalidInput("hosts lists a party twice", field="hosts")
        if ends_on < starts_on:
            raise InvalidInput(
                f"ends_on {ends_on.isoformat()} is before starts_on {starts_on.isoformat()}",
                field="ends_on",
            )
        # A summit is recorded once it has begun; its last day may still be ahead.
        check_not_future(starts_on, "starts_on", today)
        summit_id = cls.id_for(slug)
        return cls._create(
            cls.Hosted,
            id=summit_id,
            event_id=event_id_for(summit_id, 1),
            slug=slug,
            name=name.strip(),
            hosts=hosts,
            city=city.strip(),
            starts_on=starts_on,
            ends_on=ends_on,
            notes=notes,
            sources=sources,
            confidence=confidence,
        )
