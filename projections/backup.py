"""Backup and restore of the whole log, as JSON lines, between any two stores (SQLite or PostgreSQL).

A backup (`diplo export --all`) holds every stored event, bookkeeping included, exactly as stored:
its log position, aggregate id, version, topic and state. The state is written as a JSON value when
re-encoding it gives back the very same bytes (eventsourcing's JSON transcoder writes compact UTF-8
JSON, so it always does for a plain store), otherwise as base64 (a compressed or encrypted store).
A header line opens the file and an end line closes it, with the number of events and a SHA-256 of every
event line, so a truncated or altered backup is refused whole, before anything is inserted.

A checksum only catches accidents: whoever edits a line can recompute it. Two things catch a forgery. The end
line carries the **head hash**, the hash chain (storage/chain.py) computed over the backup's events as a restore
will link them; `diplo export --all` prints it, and `diplo import --expect-head HASH` refuses a file whose events
do not chain to it. And with a key (`DIPLO_BACKUP_KEY`), the end line carries an HMAC-SHA256 of the whole file,
header to end line; `diplo import` with the key set refuses a file without it or with another.

A restore (`diplo import`) inserts the stored events through the application's recorder, in batches,
into an empty store, and refuses a store that is not empty. The state carries each event's timestamp
(recorded_at), so times, ids and versions come back unchanged. Positions come back unchanged when the
source log was contiguous from 1; a PostgreSQL log with gaps (a rolled-back insert consumes a number)
is renumbered densely, in the same order. Only what eventsourcing's notification holds is carried:
anything a recorder derives per row (a hash chain, say) is derived again by the target's recorder.

A restore also accepts the JSON-lines export of public events (`diplo export events --format jsonl`):
each of its lines carries `log` (aggregate id, version, topic), so the stored event is rebuilt from the
line's typed fields, and checked: described again, it must give back the line. The bookkeeping that the
public export leaves out is regenerated where it is derivable (each event's index entry, which
retractions need); idempotency keys are not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from functools import cache
from itertools import chain
from typing import Any, Union, get_args, get_origin, get_type_hints
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from domain.ledger import EventIndex
from domain.releases import Release
from domain.rollcall import RollCall, votes_key
from domain.values import EventKind
from projections.event_log import describe
from projections.readmodel import timestamp

FORMAT = "diplo-log"
VERSION = 1
PUBLIC_FIELDS = ("position", "event_id", "kind", "occurred_on", "recorded_at", "data")

Progress = Callable[[int, int], None]
SIGNATURE = "hmac_sha256"
GENESIS = hashlib.sha256(b"diplomatic-timeline event chain v1\x00" + (0).to_bytes(8, "big")).digest()


class ImportRefused(Exception):
    """The file cannot be restored, or the store is not empty; nothing was inserted."""


class StoreNotEmpty(ImportRefused):
    def __init__(self, head: int) -> None:
        super().__init__(
            f"the store already holds events (head of the log: {head}); diplo import restores into an empty "
            "store only. Point DIPLO_DATA_DIR, or DIPLO_DATABASE_URL and DIPLO_DATABASE_SCHEMA, at an empty one."
        )
        self.head = head


# -- backup -------------------------------------------------------------------------------------------


def _compact(value: Any) -> bytes:
    # The same encoding as eventsourcing's JSONTranscoder: compact separators, UTF-8, not ASCII-escaped.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _state_field(state: bytes) -> str:
    """`"state":<the stored JSON, spliced in as it is>`, when it reads back byte for byte; else base64."""
    try:
        text = state.decode("utf-8")
        if _compact(json.loads(text)) == state:
            return '"state":' + text
    except ValueError:  # not UTF-8, or not JSON: compressed or encrypted
        pass
    return '"state_base64":' + json.dumps(base64.b64encode(state).decode("ascii"))


@dataclass
class BackupEnd:
    """What the end line of a backup said: filled in once the last line is written."""

    events: int = 0
    last_position: int = 0
    head_hash: str = ""
    signed: bool = False


def chain_link(before: bytes, position: int, originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    """The hash chain's link (storage.chain.link, whose canonical bytes these are: projections may not import
    storage), so a backup's head hash is the head a restore with unchanged positions links."""
    oid, name = originator_id.encode("utf-8", "surrogatepass"), topic.encode("utf-8", "surrogatepass")
    return hashlib.sha256(b"".join((
        before, b"i", position.to_bytes(16, "big", signed=True), b"s", len(oid).to_bytes(8, "big"), oid,
        b"i", version.to_bytes(16, "big", signed=True), b"s", len(name).to_bytes(8, "big"), name,
        b"b", len(state).to_bytes(8, "big"), state,
    ))).digest()


def backup_lines(
    recorder: ApplicationRecorder, *, page_size: int = 1000, progress: Progress | None = None,
    key: bytes | None = None, end: BackupEnd | None = None,
) -> Iterator[str]:
    """The whole log up to its head at the start, one stored event a line, between a header and an end line
    that carries the head hash and, with a key, the HMAC of every line before it and of itself."""
    head = recorder.max_notification_id() or 0
    mac = hmac.new(key, digestmod=hashlib.sha256) if key else None
    header = json.dumps({"format": FORMAT, "version": VERSION, "exported_at": timestamp(datetime.now(UTC)),
                         "head": head}) + "\n"
    if mac is not None:
        mac.update(header.encode("utf-8"))
    yield header
    position, count = 0, 0
    digest = hashlib.sha256()
    chained = GENESIS
    while position < head:
        page = recorder.select_notifications(start=position, limit=page_size, stop=head, inclusive_of_start=False)
        if not page:
            break
        lines = []
        for n in page:
            where = {"position": n.id, "originator_id": str(n.originator_id),
                     "originator_version": n.originator_version, "topic": n.topic}
            head_of_line = json.dumps(where, ensure_ascii=False, separators=(",", ":"))
            lines.append(head_of_line[:-1] + "," + _state_field(n.state) + "}\n")
            chained = chain_link(chained, n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
        chunk = "".join(lines)
        digest.update(chunk.encode("utf-8"))
        if mac is not None:
            mac.update(chunk.encode("utf-8"))
        position = page[-1].id
        count += len(page)
        if progress is not None:
            progress(position, head)
        yield chunk
    closing: dict[str, Any] = {"end": FORMAT, "events": count, "last_position": position,
                               "sha256": digest.hexdigest(), "head_hash": chained.hex() if count else None}
    if mac is not None:
        mac.update(json.dumps(closing).encode("utf-8"))
        closing[SIGNATURE] = mac.hexdigest()
    if end is not None:
        end.events, end.last_position, end.signed = count, position, mac is not None
        end.head_hash = closing["head_hash"] or ""
    yield json.dumps(closing) + "\n"


# -- reading a file back --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restorable:
    """One stored event to insert, with its position in the source log (None for regenerated bookkeeping)."""

    stored: StoredEvent
    position: int | None


def _originator_id(value: str) -> UUID | str:
    try:
        return UUID(value)
    except ValueError:
        return value  # an application whose aggregates have text ids


def _state_bytes(line: dict[str, Any]) -> bytes:
    if "state" in line:
        return _compact(line["state"])
    return base64.b64decode(line["state_base64"], validate=True)


STATE_KEY = ',"state":'


def _event_line(text: str) -> tuple[dict[str, Any], bytes]:
    """The fields of one event line and its state's bytes. The writer puts the state last, spliced in as
    stored, so the fast path takes those very bytes back without parsing them (the file's checksum has
    vouched for them); any other layout is parsed whole."""
    cut = text.find(STATE_KEY)  # a quote inside a JSON string is escaped: this is the top-level key
    if cut != -1 and text.endswith("}\n"):
        return json.loads(text[:cut] + "}"), text[cut + len(STATE_KEY):-2].encode("utf-8")
    line = json.loads(text)
    return line, _state_bytes(line)


@dataclass(frozen=True)
class Expected:
    """What a restore checks a backup against, beyond its own checksum."""

    key: bytes | None = None  # DIPLO_BACKUP_KEY: the file must carry a matching HMAC
    head: str | None = None  # --expect-head: its events must chain to this head hash


def _stored_lines(lines: Iterator[tuple[int, str]], mapper: Mapper[Any], header: str,
                  expected: Expected) -> Iterator[Restorable]:
    last, count, ended = 0, 0, False
    digest = hashlib.sha256()
    chained = GENESIS
    mac = hmac.new(expected.key, digestmod=hashlib.sha256) if expected.key else None
    if mac is not None:
        mac.update(header.encode("utf-8"))
    for number, text in lines:
        if ended:
            if text.strip():
                raise ImportRefused(f"line {number}: more lines after the end line")
            continue
        if text.startswith('{"end"'):
            try:
                end = json.loads(text)
            except ValueError:
                raise ImportRefused(f"line {number}: not JSON") from None
            if end.get("events") != count:
                raise ImportRefused(f"line {number}: the end line counts {end.get('events')} events, "
                                    f"the file holds {count}")
            if end.get("sha256") != digest.hexdigest():
                raise ImportRefused(f"line {number}: the checksum of the events does not match the end line: "
                                    "the file was changed after it was written")
            _check_end(end, number, chained.hex() if count else None, mac, expected)
            ended = True
            continue
        digest.update(text.encode("utf-8"))
        if mac is not None:
            mac.update(text.encode("utf-8"))
        try:
            line, state = _event_line(text)
            position = int(line["position"])
            stored = StoredEvent(originator_id=_originator_id(str(line["originator_id"])),
                                 originator_version=int(line["originator_version"]), topic=str(line["topic"]),
                                 state=state)
        except (KeyError, TypeError, ValueError, binascii.Error) as error:
            raise ImportRefused(f"line {number}: not a stored event of a {FORMAT} file ({error!r})") from None
        if position <= last:
            raise ImportRefused(f"line {number}: position {position} does not follow {last}")
        if count % 1000 == 0:
            _readable(stored, mapper, number)
        chained = chain_link(chained, position, str(line["originator_id"]), stored.originator_version,
                             stored.topic, stored.state)
        last = position
        count += 1
        yield Restorable(stored, position)
    if not ended:
        raise ImportRefused(f"the file ends without its end line after {count} events: it is truncated")


def _check_end(end: dict[str, Any], number: int, head: str | None, mac: Any, expected: Expected) -> None:
    """The end line's head hash and signature, and the head the operator expects, against the events read."""
    declared = end.get("head_hash")
    if declared is not None and declared != head:
        raise ImportRefused(f"line {number}: the events chain to head {head}, not to the {declared} the end line "
                            "declares: the file was changed after it was written")
    if mac is not None:
        signature = end.pop(SIGNATURE, None)
        if signature is None:
            raise ImportRefused("DIPLO_BACKUP_KEY is set but this backup is not signed: it cannot be told from a "
                                "forgery (unset the key to restore it anyway)")
        mac.update(json.dumps(end).encode("utf-8"))
        if not hmac.compare_digest(str(signature), mac.hexdigest()):
            raise ImportRefused("the backup's signature does not match DIPLO_BACKUP_KEY: it was changed after it "
                                "was signed, or signed with another key")
    if expected.head is not None and expected.head.lower() != head:
        raise ImportRefused(f"the backup's events chain to head {head}, not to the expected {expected.head}: "
                            "it is not the backup whose head you kept, or it was changed")


def _readable(stored: StoredEvent, mapper: Mapper[Any], number: int) -> None:
    """A sample of the events must read back in this store: an encrypted backup needs the same cipher key."""
    try:
        mapper.to_domain_event(stored)
    except Exception as error:  # any failure to decrypt, decompress, decode or resolve the topic
        raise ImportRefused(
            f"line {number}: this store cannot read the event ({type(error).__name__}); a backup of an encrypted "
            "store restores only into a store with the same DIPLO_CIPHER_KEY"
        ) from None


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _revive(value: Any, hint: Any) -> Any:
    """The inverse of the public form (projections.event_log._public) for one field, by its type hint."""
    if value is None or hint is Any:
        return value
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _revive(value, options[0]) if len(options) == 1 else value
    if origin is list and args:
        return [_revive(v, args[0]) for v in value]
    if origin is dict and len(args) == 2:
        return {k: _revive(v, args[1]) for k, v in value.items()}
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    if hint is UUID:
        return UUID(value)
    return value


def stored_from_public(line: dict[str, Any], mapper: Mapper[Any]) -> StoredEvent:
    """Rebuilds the stored event of one line of the public events export, and checks it describes back."""
    log = line["log"]
    cls = resolve_topic(log["topic"])
    hints = _hints(cls)
    names = {f.name for f in fields(cls)}
    unknown = set(line["data"]) - names
    if unknown:
        raise ValueError(f"fields {sorted(unknown)} are not fields of {log['topic']}")
    kwargs = {name: _revive(value, hints.get(name, Any)) for name, value in line["data"].items()}
    kwargs |= {
        "originator_id": _originator_id(str(log["originator_id"])),
        "originator_version": int(log["originator_version"]),
        "timestamp": datetime.fromisoformat(line["recorded_at"]),
        "event_id": UUID(line["event_id"]),
    }
    if log.get("originator_topic") is not None:
        kwargs["originator_topic"] = log["originator_topic"]
    stored = mapper.to_stored_event(cls(**kwargs))
    again = describe(mapper.to_domain_event(stored), int(line["position"]))
    expected = {k: line[k] for k in PUBLIC_FIELDS}  # what is derived (approximate) is not compared
    public = again.as_dict() if again is not None else None
    described = {k: public[k] for k in PUBLIC_FIELDS} if public is not None else None
    if described != expected:
        differ = sorted(k for k in PUBLIC_FIELDS if described is None or described[k] != expected[k])
        raise ValueError(f"the rebuilt event does not describe back to the line (differs in {differ})")
    return stored


def _index_entry(line: dict[str, Any], target: StoredEvent, mapper: Mapper[Any]) -> StoredEvent | None:
    """The bookkeeping the service saves beside a public event: its entry in the event index. A roll call has one
    entry for all of its events and votes, saved with the event that called it (domain.rollcall); a release has
    none."""
    kind = line["kind"]
    topic = line["log"]["topic"]
    if topic == RollCall.Called.TOPIC:
        event_id, kind = votes_key(UUID(str(target.originator_id))), EventKind.ROLLCALL.value
    elif topic.startswith(ROLLCALL_TOPIC_PREFIX) or topic == Release.Loaded.TOPIC:
        return None
    else:
        event_id = UUID(line["event_id"])
    fields_of_entry: dict[str, Any] = {
        "originator_topic": get_topic(EventIndex), "originator_id": EventIndex.id_for(event_id),
        "originator_version": 1, "timestamp": datetime.fromisoformat(line["recorded_at"]), "event_id": event_id,
        "aggregate_id": target.originator_id, "kind": kind,
    }
    return mapper.to_stored_event(EventIndex.Indexed(**fields_of_entry))


ROLLCALL_TOPIC_PREFIX = "diplo:RollCall."


def _public_lines(lines: Iterator[tuple[int, dict[str, Any]]], mapper: Mapper[Any]) -> Iterator[Restorable]:
    last = 0
    for number, line in lines:
        try:
            position = int(line["position"])
            stored = stored_from_public(line, mapper)
            index = _index_entry(line, stored, mapper)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ImportRefused(f"line {number}: cannot rebuild the stored event ({error})") from None
        if position <= last:
            raise ImportRefused(f"line {number}: position {position} does not follow {last}")
        last = position
        yield Restorable(stored, position)
        if index is not None:
            yield Restorable(index, None)


def _parsed(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, text in lines:
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except ValueError:
            raise ImportRefused(f"line {number}: not JSON") from None
        if not isinstance(line, dict):
            raise ImportRefused(f"line {number}: not a JSON object")
        yield number, line


def read_file(lines: Iterable[str], mapper: Mapper[Any], expected: Expected | None = None
              ) -> tuple[str, Iterator[Restorable]]:
    """Which kind of file this is ("log" or "events"), and its stored events, checked line by line.
    Read the lines with newline="" (as written), or a backup's checksum will not match."""
    expected = expected or Expected()
    numbered = enumerate(lines, start=1)
    first = next(((n, t) for n, t in numbered if t.strip()), None)
    if first is None:
        raise ImportRefused("the file is empty")
    head = next(_parsed([first]))[1]
    if head.get("format") == FORMAT:
        if head.get("version") != VERSION:
            raise ImportRefused(f"this is a {FORMAT} file of version {head.get('version')}; "
                                f"this version of diplo reads version {VERSION}")
        return "log", _stored_lines(numbered, mapper, first[1], expected)
    if "kind" in head and "data" in head:
        if not isinstance(head.get("log"), dict):
            raise ImportRefused(
                "line 1 is a public event without its `log` part (aggregate, version, topic), as /v1/events "
                "gives it; restore from `diplo export --all`, `diplo export events --format jsonl` or "
                "GET /v1/export/events?format=jsonl"
            )
        if expected.key is not None or expected.head is not None:
            raise ImportRefused("this is an export of public events, which carries no signature and no head hash: "
                                "unset DIPLO_BACKUP_KEY and drop --expect-head to restore it")
        return "events", _public_lines(_parsed(chain([first], numbered)), mapper)
    raise ImportRefused("line 1 is neither the header of a backup (diplo export --all) nor a public event")


# -- restore ------------------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    format: str
    inserted: int = 0  # stored events inserted
    from_source: int = 0  # of which came with a position from the file
    moved: int = 0  # of those, how many took another position than in the source log
    last_position: int = 0


def restore(
    recorder: ApplicationRecorder,
    kind: str,
    events: Iterable[Restorable],
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> RestoreReport:
    """Inserts the events through the recorder, one transaction a batch, into an empty store."""
    head = recorder.max_notification_id() or 0
    if head:
        raise StoreNotEmpty(head)
    report = RestoreReport(kind)

    def insert(batch: list[Restorable]) -> None:
        ids = recorder.insert_events([r.stored for r in batch])
        report.inserted += len(batch)
        if ids:
            report.last_position = max(report.last_position, *ids)
            for restorable, new in zip(batch, ids, strict=True):
                if restorable.position is not None:
                    report.from_source += 1
                    report.moved += restorable.position != new
        if progress is not None:
            progress(report.inserted)

    batch: list[Restorable] = []
    for restorable in events:
        batch.append(restorable)
        if len(batch) >= batch_size:
            insert(batch)
            batch = []
    if batch:
        insert(batch)
    return report
