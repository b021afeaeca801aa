"""Exports for analysts: the event log, the stances and the timeline, as rows.

Every export is a generator of pages over keyset-paged reads, one short read transaction per page, so an
export of any size never sits in memory and never holds a connection while its consumer is slow.
Each page is read whole and released before its rows are handed on.

- `events`: every public event in log order, read from the log itself (the truth, never behind),
  each as `/v1/events` shows it plus `parties`, `declaration_id` and `log` (its aggregate, version
  and topic), which is what `projections.backup` needs to rebuild the stored event from the line.
  The export stops at the head of the log as it stood when the export began.
- `stances`: the stance of every (party, declaration) pair that has one at `at`, as recorded by
  `known_at`, ordered by declaration then party, read one declaration at a time.
- `timeline`: every act in valid-time order, as `/v1/timeline` shows it at `known_at`.
- `agreement` and `vote-share`: the tables of `/v1/agreement` (two parties) and `/v1/parties/{code}/vote-share`
  (one), a row per period; small (a row a year at most), so read in one reading and given as one page.

With `known_at` fixed when the export starts, every page answers the same question, so pages
read in separate transactions still make one consistent export.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper

from domain.ledger import INTERNAL_TOPIC_PREFIX
from domain.values import Confidence, EventKind, TimelineKind
from projections.event_log import Publications, describe
from projections.stance_history import BOTH_TIMES, both_times, span
from projections.store import ViewStore
from projections.timeline import query_timeline

Record = dict[str, Any]
Page = list[Record]  # one page of a keyset-paged read: the unit of streaming
Progress = Callable[[int, int], None]  # (done, total), as the projector's catch_up reports


class Dataset(StrEnum):
    EVENTS = "events"
    STANCES = "stances"
    TIMELINE = "timeline"
    AGREEMENT = "agreement"
    VOTE_SHARE = "vote-share"


class Format(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


# The kinds each dataset can be filtered by (a kind the dataset never holds is refused, not answered empty).
KINDS: dict[Dataset, frozenset[str]] = {Dataset.EVENTS: frozenset(EventKind), Dataset.TIMELINE: frozenset(TimelineKind)}

# Which filters each dataset understands; a filter given to a dataset that ignores it is an error.
FILTERS: dict[Dataset, frozenset[str]] = {
    Dataset.EVENTS: frozenset({"known_at", "date_from", "date_to", "parties", "declarations", "kinds", "after"}),
    Dataset.STANCES: frozenset({"known_at", "at", "parties", "declarations", "stances", "min_confidence"}),
    Dataset.TIMELINE: frozenset({"known_at", "date_from", "date_to", "parties", "declarations", "kinds"}),
    Dataset.AGREEMENT: frozenset({"known_at", "date_from", "date_to", "parties", "by", "issue", "important",
                                  "include"}),
    Dataset.VOTE_SHARE: frozenset({"known_at", "date_from", "date_to", "parties", "by", "issue", "important",
                                   "include"}),
}
# How many parties a table of alignment is about (`party` given this many times).
PARTIES_NEEDED = {Dataset.AGREEMENT: 2, Dataset.VOTE_SHARE: 1}


@dataclass(frozen=True)
class ExportFilter:
    """What to export. `known_at` is fixed by the caller (default now), so every page agrees."""

    known_at: str
    at: str | None = None  # stances: valid time; the caller defaults it to today
    date_from: str | None = None  # events and timeline: first valid-time date
    date_to: str | None = None
    parties: tuple[str, ...] = ()
    declarations: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # events and timeline: EventKind, TimelineKind
    stances: tuple[str, ...] = ()  # stances: ActKind
    min_confidence: str = Confidence.LOW
    after: int = 0  # events: start after this log position
    by: str | None = None  # agreement, vote-share: year (default), session or decade
    issue: str | None = None  # agreement, vote-share: an issue's code or name
    important: bool | None = None  # agreement, vote-share: only roll calls classified important, or not
    include: bool = False  # agreement, vote-share: follow the parties through their predecessors

    def given(self) -> set[str]:
        """The filters set to something other than their defaults (known_at is always set)."""
        found = {"known_at"}
        for name in ("at", "date_from", "date_to", "by", "issue", "important"):
            if getattr(self, name) is not None:
                found.add(name)
        for name in ("parties", "declarations", "kinds", "stances"):
            if getattr(self, name):
                found.add(name)
        if self.min_confidence != Confidence.LOW:
            found.add("min_confidence")
        if self.after:
            found.add("after")
        if self.include:
            found.add("include")
        return found

    def unsupported(self, dataset: Dataset) -> list[str]:
        """Filters given that this dataset does not use (the caller refuses them)."""
        return sorted(self.given() - FILTERS[dataset])

    def unknown_kinds(self, dataset: Dataset) -> list[str]:
        """Kinds asked for that the dataset never holds (a retraction is no row of the timeline)."""
        allowed = KINDS.get(dataset, frozenset())
        return [k for k in self.kinds if k not in allowed]


# -- events, from the log ---------------------------------------------------------------------------


def event_pages(
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    selection: ExportFilter,
    publications: Publications,
    *,
    page_size: int = 1000,
    progress: Progress | None = None,
) -> Iterator[Page]:
    """Every public event in log order, up to the head as it stood at the start, a page of the log at a
    time (bookkeeping and filtered-out events skipped, so a page can be short; empty ones are not given)."""
    head = recorder.max_notification_id() or 0
    position = selection.after
    kinds, parties, declarations = set(selection.kinds), set(selection.parties), set(selection.declarations)
    while position < head:
        page = recorder.select_notifications(start=position, limit=page_size, stop=head, inclusive_of_start=False)
        if not page:
            break
        found: list[Record] = []
        for notification in page:
            if notification.topic.startswith(INTERNAL_TOPIC_PREFIX):
                continue  # bookkeeping is never public: skip it before paying for its decoding
            event = mapper.to_domain_event(notification)
            public = describe(event, notification.id, publications)
            if public is None or public.recorded_at > selection.known_at:
                continue
            if (kinds and public.kind not in kinds) or (declarations and public.declaration_id not in declarations):
                continue
            if parties and not parties.intersection(public.parties):
                continue
            if (selection.date_from or selection.date_to) and (
                public.occurred_on is None  # retractions have no valid-time date of their own
                or (selection.date_from and public.occurred_on < selection.date_from)
                or (selection.date_to and public.occurred_on > selection.date_to)
            ):
                continue
            found.append({
                **public.as_dict(),
                "parties": list(public.parties),
                "declaration_id": public.declaration_id,
                "log": {
                    "originator_id": str(notification.originator_id),
                    "originator_version": notification.originator_version,
                    "topic": notification.topic,
                    "originator_topic": getattr(event, "originator_topic", None),
                },
            })
        position = page[-1].id
        if progress is not None:
            progress(position, head)
        if found:
            yield found


# -- stances, from the stance history -----------------------------------------------------------------


def _stance_filter(selection: ExportFilter) -> tuple[str, list[Any]]:
    assert selection.at is not None
    where = BOTH_TIMES
    params: list[Any] = list(both_times(selection.at, selection.known_at, selection.min_confidence))
    for column, values in (("s.party", selection.parties), ("s.stance", selection.stances)):
        if values:
            where += f" AND {column} IN ({', '.join('?' for _ in values)})"
            params.extend(values)
    return where, params


def stance_pages(
    store: ViewStore, selection: ExportFilter, *, page_size: int = 1000, progress: Progress | None = None
) -> Iterator[Page]:
    """The stance of every (party, declaration) pair with one at `at` as recorded by `known_at`, ordered by
    declaration then party (code-point order, the same on either backend). Progress counts declarations.

    One indexed query a declaration: a declaration has at most one row a party, so each answer is bounded
    by the party registry, whatever the size of the history."""
    with store.reading() as sql:
        declarations = sorted(r["id"] for r in sql.rows("SELECT id FROM declarations"))
    if selection.declarations:
        wanted = set(selection.declarations)
        declarations = [d for d in declarations if d in wanted]
    where, params = _stance_filter(selection)
    page: Page = []
    for done, declaration_id in enumerate(declarations, start=1):
        with store.reading() as sql:
            rows = sql.rows(
                "SELECT s.declaration_id, d.title, s.party, s.stance, s.valid_from AS since, s.precision,"
                " s.confidence, s.event_id, s.position, s.sources FROM stance_spans s"
                f" LEFT JOIN declarations d ON d.id = s.declaration_id WHERE s.declaration_id = ?{where}",
                [declaration_id, *params],
            )
        rows.sort(key=lambda row: str(row["party"]))
        page.extend({"at": selection.at, "known_at": selection.known_at, **span(row)} for row in rows)
        if progress is not None:
            progress(done, len(declarations))
        if len(page) >= page_size:
            yield page
            page = []
    if page:
        yield page


# -- the timeline ---------------------------------------------------------------------------------------


def count_timeline(store: ViewStore, selection: ExportFilter) -> int:
    where, params = ["recorded_at <= ?"], [selection.known_at]
    for column, bound in (("effective_on >=", selection.date_from), ("effective_on <=", selection.date_to)):
        if bound:
            where.append(f"{column} ?")
            params.append(bound)
    for name, values in (("party", selection.parties), ("declaration_id", selection.declarations),
                         ("kind", selection.kinds)):
        if values:
            where.append(f"{name} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    with store.reading() as sql:
        acts = int(sql.value(f"SELECT COUNT(*) FROM timeline WHERE {' AND '.join(where)}", params))
        if selection.declarations or (selection.kinds and TimelineKind.VOTE not in selection.kinds):
            return acts
        # Roughly, for a progress bar: the votes that count now in the dates and parties asked.
        votes, vote_params = ["v.seen_to IS NULL"], []
        for column, bound in (("v.date >=", selection.date_from), ("v.date <=", selection.date_to)):
            if bound:
                votes.append(f"{column} ?")
                vote_params.append(bound)
        if selection.parties:
            votes.append(f"v.party IN ({', '.join('?' for _ in selection.parties)})")
            vote_params.extend(selection.parties)
        return acts + int(sql.value(f"SELECT COUNT(*) FROM votes v WHERE {' AND '.join(votes)}", vote_params))


def timeline_pages(
    store: ViewStore, selection: ExportFilter, *, page_size: int = 1000, progress: Progress | None = None
) -> Iterator[Page]:
    """Every act in valid-time order as `/v1/timeline` shows it at `known_at`."""
    total = count_timeline(store, selection) if progress is not None else 0
    after: tuple[str, int, str] | None = None
    done = 0
    while True:
        with store.reading() as sql:
            rows = query_timeline(
                sql, known_at=selection.known_at, date_from=selection.date_from, date_to=selection.date_to,
                parties=list(selection.parties), declarations=list(selection.declarations),
                kinds=list(selection.kinds), after=after, limit=page_size,
            )
        if not rows:
            return
        after = rows[-1]["order"]
        done += len(rows)
        if progress is not None:
            progress(done, max(total, done))
        yield rows
        if len(rows) < page_size:
            return


# -- flat columns, for CSV and Parquet ------------------------------------------------------------------

# The columns of each dataset in CSV and Parquet; nested values (sources, data, hosts) are JSON text.
COLUMNS: dict[Dataset, tuple[str, ...]] = {
    Dataset.EVENTS: (
        "position", "event_id", "kind", "occurred_on", "effective_on", "approximate", "recorded_at", "party",
        "declaration_id", "data", "originator_id", "originator_version", "topic",
    ),
    Dataset.STANCES: (
        "at", "known_at", "declaration_id", "title", "party", "stance", "since", "precision", "approximate",
        "confidence", "event_id", "position", "sources",
    ),
    Dataset.TIMELINE: (
        "position", "event_id", "kind", "occurred_on", "effective_on", "precision", "approximate", "recorded_at",
        "party", "hosts", "declaration_id", "summit_id", "title", "stance", "previous", "speaker", "text",
        "position_on", "reason", "note", "confidence", "sources", "retracted", "retraction_event_id",
        "retraction_position", "retracted_at", "retraction_reason", "retraction_sources", "rollcall_id", "resolution",
        "vote",
    ),
    Dataset.AGREEMENT: (
        "a", "b", "by", "period", "joint", "identical", "agreement", "kappa", "include", "issue", "important",
        "known_at",
    ),
    Dataset.VOTE_SHARE: ("party", "by", "period", "votes", "yes", "no", "abstain", "include", "issue", "important",
                         "known_at"),
}
INTEGER_COLUMNS = frozenset({"position", "originator_version", "retraction_position", "joint", "votes"})
BOOLEAN_COLUMNS = frozenset({"approximate", "retracted", "important"})
FLOAT_COLUMNS = frozenset({"identical", "agreement", "kappa", "yes", "no", "abstain"})


def alignment_rows(dataset: Dataset, answer: Record) -> Page:
    """An answer of `/v1/agreement` or `/v1/parties/{code}/vote-share` as the rows of its table: one a period, each
    carrying what it was asked (parties, grouping, filters, moment), so a file read later says what it holds."""
    asked = {name: answer[name] for name in ("by", "issue", "important", "known_at")}
    asked["include"] = " ".join(answer["include"]) or None
    who = {"a": answer["a"], "b": answer["b"]} if dataset is Dataset.AGREEMENT else {"party": answer["party"]}
    return [{c: row[c] for c in COLUMNS[dataset]} for row in ({**who, **asked, **p} for p in answer["periods"])]


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def flat(dataset: Dataset, record: Record) -> Record:
    """One record as a flat row of the dataset's columns: scalars stay, nested values become JSON text."""
    if dataset is Dataset.EVENTS:
        log = record["log"]
        return {
            **{c: record[c] for c in ("position", "event_id", "kind", "occurred_on", "effective_on", "approximate",
                                      "recorded_at")},
            "party": " ".join(record["parties"]) or None,
            "declaration_id": record["declaration_id"],
            "data": _json_text(record["data"]),
            "originator_id": log["originator_id"],
            "originator_version": log["originator_version"],
            "topic": log["topic"],
        }
    if dataset is Dataset.STANCES:
        return {c: _json_text(record[c]) if c == "sources" else record.get(c) for c in COLUMNS[dataset]}
    if dataset in PARTIES_NEEDED:
        return {c: record.get(c) for c in COLUMNS[dataset]}
    retraction = record.get("retraction") or {}
    row = {c: record.get(c) for c in COLUMNS[dataset] if not c.startswith("retraction")}
    row |= {
        "hosts": _json_text(record.get("hosts")),
        "sources": _json_text(record.get("sources")),
        "retracted_at": retraction.get("recorded_at"),
        "retraction_event_id": retraction.get("event_id"),
        "retraction_position": retraction.get("position"),
        "retraction_reason": retraction.get("reason"),
        "retraction_sources": _json_text(retraction.get("sources")),
    }
    return {c: row[c] for c in COLUMNS[dataset]}


# -- serialisers ------------------------------------------------------------------------------------------


def jsonl_chunks(pages: Iterable[Page]) -> Iterator[str]:
    """JSON lines, one record a line, one chunk a page."""
    for page in pages:
        yield "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in page)


# A spreadsheet runs a cell that begins with one of these as a formula (CSV injection): a recorded statement
# beginning "=HYPERLINK(" would become a live link on a desk that double-clicks the file. Such a cell is written
# with a leading apostrophe, which spreadsheets take as "this is text" (OWASP's advice); the JSON lines and
# Parquet exports carry every text exactly.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as in the JSON lines, and read as booleans by pandas
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(dataset: Dataset, pages: Iterable[Page]) -> Iterator[str]:
    """CSV (RFC 4180: header row, CRLF line ends, fields with commas, quotes or newlines quoted), a chunk a page."""
    columns = COLUMNS[dataset]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield buffer.getvalue()
    for page in pages:
        buffer.seek(0)
        buffer.truncate()
        for record in page:
            row = flat(dataset, record)
            writer.writerow([_cell(row[c]) for c in columns])
        yield buffer.getvalue()


class ParquetUnavailable(RuntimeError):
    """pyarrow is not installed (the optional `analysis` extra)."""


def write_parquet(dataset: Dataset, pages: Iterable[Page], path: Path, *, rows_per_group: int = 10_000) -> int:
    """Writes the pages as Parquet, a row group of about `rows_per_group` rows at a time (never the whole
    export in memory)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ParquetUnavailable(
            "Parquet needs pyarrow: pip install 'diplomatic-timeline[analysis]'"
        ) from None

    columns = COLUMNS[dataset]
    schema = pa.schema([
        (c, pa.int64() if c in INTEGER_COLUMNS else pa.bool_() if c in BOOLEAN_COLUMNS
         else pa.float64() if c in FLOAT_COLUMNS else pa.string())
        for c in columns
    ])
    written = 0
    with pq.ParquetWriter(str(path), schema) as writer:

        def write(rows: list[Record]) -> None:
            writer.write_table(pa.Table.from_pydict({c: [r[c] for r in rows] for c in columns}, schema=schema))

        group: list[Record] = []
        for page in pages:
            group.extend(flat(dataset, r) for r in page)
            if len(group) >= rows_per_group:
                write(group)
                written += len(group)
                group = []
        if group:
            write(group)
            written += len(group)
    return written
