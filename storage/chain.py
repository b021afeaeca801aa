"""The hash chain over the event log, and its verification. Pure: no database here.

Every stored event has a link: ``hash_n = SHA-256(hash_before || canonical bytes of event n)``, where
``hash_before`` is the link of the event before it in log order, and the canonical bytes are its position,
originator id, originator version, topic and stored state (the bytes as stored, so encrypted when a
cipher is on). The first link hashes from a genesis value that binds how many events the log already
held when the chain started (an upgraded store keeps its earlier events, which nothing covers).

Changing a stored event breaks its own link; removing one leaves its link without an event, or (if its
link is removed too) breaks the link of the next one; inserting one gives an event without a link, or
(with a forged link) breaks the link of the next one. `verify` names the first such position.
Someone who can rewrite the whole table can recompute the whole chain: compare the head hash with one
recorded elsewhere (`diplo verify --anchor POSITION:HASH`) to catch that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol
from uuid import UUID

from eventsourcing.persistence import PersistenceError

HASH_SIZE = 32
_GENESIS_LABEL = b"diplomatic-timeline event chain v1\x00"

BreakKind = Literal["altered", "inserted", "removed", "broken", "anchor"]
LOWEST_POSITION = -(2**63)  # below any position a table can hold, forged ones included

# One page of the log as both recorders read it: (position, originator id as stored, originator version,
# topic, state, hash, whether an event is there). Built from a window of events and a window of links.
PageRow = tuple[int, object, object, object, object, object, bool]


class BrokenChain(PersistenceError):
    """A new event cannot be linked: the chain already holds a link at or after its position, which only
    editing the tables by hand can cause. Nothing is stored; `diplo verify` says where."""


class ChainRefused(BrokenChain):
    """A write refused because the chain is known to be broken (storage.chain_guard): the message says where."""


def genesis(events_before: int) -> bytes:
    """The value the first link hashes from: it binds the number of events stored before the chain began,
    so an event slipped in before the start, or links deleted from the front, break the first link."""
    return hashlib.sha256(_GENESIS_LABEL + events_before.to_bytes(8, "big")).digest()


def _field(value: object) -> bytes:
    # Each field is typed and length-prefixed, so no two different events share canonical bytes.
    # Values of unexpected types can only come from someone editing the table by hand: they still
    # encode (never raise), and simply fail to match.
    if value is None:
        return b"n"
    if isinstance(value, bool):
        return b"?" + repr(value).encode()
    if isinstance(value, int):
        return b"i" + value.to_bytes(16, "big", signed=True)
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        return b"s" + len(data).to_bytes(8, "big") + data
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        return b"b" + len(data).to_bytes(8, "big") + data
    data = repr(value).encode("utf-8", "surrogatepass")
    return b"?" + len(data).to_bytes(8, "big") + data


def originator_text(originator_id: UUID | str) -> str:
    """The originator id as the chain hashes it: a UUID in its 36-character form, or the text id."""
    return str(originator_id)


def canonical(position: int, originator_id: str, originator_version: object, topic: object, state: object) -> bytes:
    """The bytes of one stored event that its link covers."""
    if (type(originator_version) is int and type(topic) is str and type(state) is bytes
            and type(position) is int and type(originator_id) is str):
        # Every event the recorders insert, spelled out: the same bytes as the general case, in a third of the time.
        oid = originator_id.encode("utf-8", "surrogatepass")
        name = topic.encode("utf-8", "surrogatepass")
        return b"".join((
            b"i", position.to_bytes(16, "big", signed=True),
            b"s", len(oid).to_bytes(8, "big"), oid,
            b"i", originator_version.to_bytes(16, "big", signed=True),
            b"s", len(name).to_bytes(8, "big"), name,
            b"b", len(state).to_bytes(8, "big"), state,
        ))
    return b"".join(_field(v) for v in (position, originator_id, originator_version, topic, state))


def link(before: bytes, position: int, originator_id: str, originator_version: object, topic: object,
         state: object) -> bytes:
    """The hash of one event chained to the hash before it."""
    return hashlib.sha256(before + canonical(position, originator_id, originator_version, topic, state)).digest()


@dataclass(frozen=True)
class StoredFields:
    """One event's row as read from the table, its originator id already in the chain's text form."""

    originator_id: str
    originator_version: object
    topic: object
    state: object


@dataclass(frozen=True)
class ChainRow:
    """One position of the log: its event (None if only a link is there) and its link (None if unlinked)."""

    position: int
    event: StoredFields | None
    hash: bytes | None


class ChainedRecorder(Protocol):
    """What `verify` needs of a recorder that keeps the chain."""

    write_refusal: str | None  # set once the chain is known to be broken: inserts are refused with it

    def chain_stop(self) -> int:
        """The highest position holding an event or a link, right now."""

    def chain_rows(self, after: int | None, stop: int, limit: int) -> Sequence[ChainRow]:
        """Positions after `after` (None: from the first) up to `stop`, at most `limit`, in log order, each
        page read in one statement so an event and its link are seen together."""

    def chain_head(self) -> tuple[int, bytes] | None:
        """The last link: its position and hash."""


@dataclass(frozen=True)
class Break:
    """A place where the stored log no longer matches its chain."""

    position: int
    kind: BreakKind
    detail: str


@dataclass
class ChainReport:
    """What `verify` found."""

    events: int = 0  # events in the log, up to the position verification stopped at
    linked: int = 0  # events whose link was checked and held
    starts_at: int | None = None  # the first position with a link
    unlinked_before_start: int = 0  # events stored before the chain began (an upgraded store)
    first_unlinked: int | None = None
    head_position: int | None = None
    head_hash: bytes | None = None
    breaks: list[Break] = field(default_factory=list)
    more_breaks: int = 0  # breaks found beyond those listed

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> Break | None:
        return min(self.breaks, key=lambda b: b.position) if self.breaks else None


class _Walker:
    """Walks the rows in log order, checking each link against the stored link before it."""

    def __init__(self, report: ChainReport, anchor: tuple[int, bytes] | None, max_breaks: int) -> None:
        self.report = report
        self.anchor = anchor
        self.anchor_seen = False
        self.max_breaks = max_breaks
        self.before: bytes | None = None  # the stored link of the last linked position (None: not started)
        self.before_position = 0
        self.before_that: bytes | None = None  # the link that one hashed from
        self.last_seen = 0  # the last position seen, linked or not

    def flag(self, position: int, kind: BreakKind, detail: str) -> None:
        if len(self.report.breaks) < self.max_breaks:
            self.report.breaks.append(Break(position, kind, detail))
        else:
            self.report.more_breaks += 1

    def row(self, row: ChainRow) -> None:
        report = self.report
        if row.event is not None:
            report.events += 1
        if row.hash is None:
            self._unlinked(row)
        else:
            self._linked(row, row.hash)
        self.last_seen = row.position

    def _unlinked(self, row: ChainRow) -> None:
        if self.before is None:
            self.report.unlinked_before_start += 1
            if self.report.first_unlinked is None:
                self.report.first_unlinked = row.position
        else:
            self.flag(row.position, "inserted", "an event with no link in the chain: it was stored around it")

    def _linked(self, row: ChainRow, stored: bytes) -> None:
        report = self.report
        starting = self.before is None
        before = genesis(report.unlinked_before_start) if self.before is None else self.before
        if starting:
            report.starts_at = row.position
        event = row.event
        if event is None:
            self.flag(row.position, "removed", "the chain has a link here but the event is gone")
        elif link(before, row.position, *_fields(event)) == stored:
            report.linked += 1
        else:
            self._explain(row, event, stored, starting)
        if self.anchor is not None and row.position == self.anchor[0]:
            self.anchor_seen = True
            if stored != self.anchor[1]:
                self.flag(row.position, "anchor",
                          f"the link here is {stored.hex()}, not the anchor {self.anchor[1].hex()}: "
                          "the chain was rewritten")
        self.before_that, self.before, self.before_position = before, stored, row.position
        report.head_position, report.head_hash = row.position, stored

    def _explain(self, row: ChainRow, event: StoredFields, stored: bytes, starting: bool) -> None:
        """Says what most likely happened when a link does not hold."""
        report = self.report
        if starting:
            if report.unlinked_before_start and link(genesis(0), row.position, *_fields(event)) == stored:
                assert report.first_unlinked is not None
                self.flag(report.first_unlinked, "inserted",
                          f"{report.unlinked_before_start} event(s) before the chain's start at position "
                          f"{row.position} were inserted after it began")
                return
            self.flag(row.position, "altered",
                      "the first link does not match: this event was altered, or events before the chain's "
                      "start were inserted or removed")
            return
        if self.before_that is not None and link(self.before_that, row.position, *_fields(event)) == stored:
            self.flag(self.before_position, "inserted",
                      f"an event was inserted with a forged link: position {row.position} chains over it")
            return
        if row.position - self.last_seen > 1:
            self.flag(row.position, "broken",
                      f"does not chain from position {self.before_position}: an event between them was "
                      "removed with its link, or this event was altered")
            return
        self.flag(row.position, "altered", "the stored event no longer matches its link")

    def finish(self) -> None:
        if self.anchor is not None and not self.anchor_seen:
            self.flag(self.anchor[0], "anchor", "the anchor's position has no link in the chain")


def _fields(event: StoredFields) -> tuple[str, object, object, object]:
    return event.originator_id, event.originator_version, event.topic, event.state


def merge_page(rows: Sequence[PageRow], limit: int, stop: int,
               originator: Callable[[object], str]) -> list[ChainRow]:
    """Pairs a window of at most `limit` events with a window of at most `limit` links. Where a window
    came back full, what lies beyond its last row is unknown, so the page ends there."""
    events = [r[0] for r in rows if r[6]]
    links = [r[0] for r in rows if r[5] is not None]
    cut = stop
    if len(events) >= limit:
        cut = min(cut, events[-1])
    if len(links) >= limit:
        cut = min(cut, links[-1])
    page = []
    for position, oid, version, topic, state, digest, has_event in rows:
        if position > cut:
            break
        event = StoredFields(originator(oid), version, topic, state) if has_event else None
        page.append(ChainRow(position, event, _digest(digest)))
    return page


def _digest(value: object) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return repr(value).encode()  # a link edited into another type: kept, so it fails to match


def verify_rows(rows: Iterable[ChainRow], *, anchor: tuple[int, bytes] | None = None,
                max_breaks: int = 100) -> ChainReport:
    """Checks rows given in log order."""
    report = ChainReport()
    walker = _Walker(report, anchor, max_breaks)
    for row in rows:
        walker.row(row)
    walker.finish()
    return report


def verify(recorder: ChainedRecorder, *, anchor: tuple[int, bytes] | None = None, page_size: int = 2_000,
           progress: Callable[[int, int], None] | None = None, max_breaks: int = 100) -> ChainReport:
    """Recomputes the chain from the start of the log, a page at a time; `progress(position, stop)`."""
    stop = recorder.chain_stop()  # later writes land beyond it: the walk is of one consistent prefix
    report = ChainReport()
    walker = _Walker(report, anchor, max_breaks)
    after: int | None = None  # from the very start, even a forged row at position 0 or below
    while after is None or after < stop:
        page = recorder.chain_rows(after, stop, page_size)
        if not page:
            break
        for row in page:
            walker.row(row)
        after = page[-1].position
        if progress is not None:
            progress(max(after, 0), stop)
    walker.finish()
    return report


def parse_anchor(text: str) -> tuple[int, bytes]:
    """`POSITION:HASH` (the hash in hex, as `diplo verify` prints it)."""
    position, sep, digest = text.partition(":")
    try:
        value = bytes.fromhex(digest.strip())
        where = int(position)
    except ValueError:
        raise ValueError("an anchor is POSITION:HASH, e.g. 1234:9f86d0…") from None
    if not sep or len(value) != HASH_SIZE or where < 1:
        raise ValueError("an anchor is POSITION:HASH with a 64-digit hex SHA-256 hash")
    return where, value
