"""`diplo export` and `diplo import`: exports for analysts, and the whole-log backup and restore.

Hooked into `api.cli` by `register(app)`. Data goes to --out (or standard output); progress and the
summary go to standard error, so `diplo export events > events.jsonl` stays clean. A file named with
--out is written beside itself as FILE.partial and renamed when complete, so an interrupted export
never leaves a file that looks whole; a name ending in .gz is gzip-compressed (and read back so).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn, TextIO, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.alignment_answers import alignment_table
from api.answers import checked, parse_known_at
from api.bootstrap import Runtime
from api.cli_releases import is_release, load_release
from api.command_lines import CommandLineError, looks_like_commands, read_commands
from api.settings import Settings
from api.terminal import iso_day, one_shot
from domain.bulk import CommandRefused
from domain.errors import DomainError
from domain.succession import Include
from domain.values import ActKind, Confidence, EventKind, Period
from projections.backup import (
    BackupEnd,
    Expected,
    ImportRefused,
    Restorable,
    StoreNotEmpty,
    backup_lines,
    read_file,
    restore,
)
from projections.exports import (
    PARTIES_NEEDED,
    Dataset,
    ExportFilter,
    Format,
    Page,
    ParquetUnavailable,
    csv_chunks,
    event_pages,
    jsonl_chunks,
    stance_pages,
    timeline_pages,
    write_parquet,
)
from storage import restore_marker

err = Console(stderr=True, soft_wrap=True)

def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _bar(label: str) -> Progress:
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                    transient=False)


def _open_text(path: Path, mode: str, *, compressed: bool | None = None) -> TextIO:
    if path.suffix == ".gz" if compressed is None else compressed:
        return cast(TextIO, gzip.open(path, mode + "t", encoding="utf-8", newline=""))
    return cast(TextIO, path.open(mode, encoding="utf-8", newline=""))


@contextmanager
def _written(out: Path | None) -> Iterator[TextIO]:
    """Standard output, or FILE.partial renamed to FILE once everything is written."""
    if out is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    partial = out.with_name(out.name + ".partial")
    try:
        with _open_text(partial, "w", compressed=out.suffix == ".gz") as handle:
            yield handle
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _counted(pages: Iterator[Page], counter: list[int]) -> Iterator[Page]:
    for page in pages:
        counter[0] += len(page)
        yield page


def export(
    dataset: Annotated[Dataset | None, typer.Argument(
        help="events, stances, timeline, agreement (--party twice) or vote-share (--party once); or --all")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Back up the whole log, bookkeeping included (JSON lines)")]
    = False,
    fmt: Annotated[Format, typer.Option("--format", help="jsonl, csv or parquet (parquet needs --out)")]
    = Format.JSONL,
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default standard output); .gz compresses")]
    = None,
    at: Annotated[datetime | None, typer.Option("--at", formats=["%Y-%m-%d"],
                                                help="stances: valid time (default today)")] = None,
    known_at: Annotated[str | None, typer.Option("--known-at", help="What the record said then (default now)")]
    = None,
    date_from: Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"],
                                                       help="events, timeline: first valid-time date")] = None,
    date_to: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"],
                                                     help="events, timeline: last valid-time date")] = None,
    party: Annotated[list[str] | None, typer.Option("--party", help="Only this party (repeatable)")] = None,
    declaration: Annotated[list[str] | None, typer.Option("--declaration", help="Only this declaration (repeatable)")]
    = None,
    kind: Annotated[list[EventKind] | None,
                    typer.Option("--kind", help="events, timeline: only this kind (repeatable)")] = None,
    stance: Annotated[list[ActKind] | None, typer.Option("--stance", help="stances: only this stance (repeatable)")]
    = None,
    min_confidence: Annotated[Confidence, typer.Option("--min-confidence", help="stances: low, medium or high")]
    = Confidence.LOW,
    after: Annotated[int, typer.Option("--after", min=0, help="events: start after this log position")] = 0,
    page_size: Annotated[int, typer.Option("--page-size", min=1, max=10_000, help="Rows read per transaction")]
    = 1000,
    by: Annotated[Period | None, typer.Option("--by", help="agreement, vote-share: year (default), session, decade")]
    = None,
    issue: Annotated[str | None, typer.Option("--issue", help="agreement, vote-share: an issue's code or name")]
    = None,
    important: Annotated[bool | None, typer.Option("--important/--not-important",
                                                   help="agreement, vote-share: only roll calls classified "
                                                        "important, or only those not")] = None,
    include: Annotated[Include | None, typer.Option("--include", help="agreement, vote-share: predecessors")]
    = None,
) -> None:
    """Export events, stances or the timeline as JSON lines, CSV or Parquet; or --all: back up the whole log."""
    if all_:
        if dataset is not None:
            _fail("give either a dataset (events, stances, timeline) or --all, not both")
        given = [name for name, value in (("--at", at), ("--known-at", known_at), ("--from", date_from),
                                          ("--to", date_to), ("--party", party), ("--declaration", declaration),
                                          ("--kind", kind), ("--stance", stance), ("--after", after)) if value]
        if given or min_confidence is not Confidence.LOW:
            _fail(f"--all backs up the whole log and takes no filters (got {', '.join(given) or '--min-confidence'})")
        if fmt is not Format.JSONL:
            _fail("--all writes JSON lines only (the format diplo import reads)")
        _backup(out, page_size)
        return
    if dataset is None:
        _fail("name what to export: events, stances or timeline (or --all for a backup of the whole log)")
    try:
        selection = ExportFilter(
            known_at=parse_known_at(known_at),
            at=(iso_day(at) or datetime.now(UTC).date().isoformat()) if dataset is Dataset.STANCES else iso_day(at),
            date_from=iso_day(date_from), date_to=iso_day(date_to), parties=tuple(party or ()),
            declarations=tuple(declaration or ()), kinds=tuple(kind or ()), stances=tuple(stance or ()),
            min_confidence=min_confidence, after=after, by=by, issue=issue, important=important,
            include=include is not None,
        )
    except DomainError as error:
        _fail(error.message)
    unsupported = selection.unsupported(dataset)
    if unsupported:
        _fail(f"{dataset} exports do not take {', '.join(_option(u) for u in unsupported)}")
    for k in selection.unknown_kinds(dataset):
        _fail(f"unknown kind '{k}' for {dataset} exports: they hold no {k} rows")
    if fmt is Format.PARQUET and out is None:
        _fail("Parquet is binary: name a file with --out")
    _export(dataset, fmt, out, selection, page_size)


def _option(name: str) -> str:
    return {"date_from": "--from", "date_to": "--to", "parties": "--party", "declarations": "--declaration",
            "kinds": "--kind", "stances": "--stance"}.get(name, "--" + name.replace("_", "-"))


def _export(dataset: Dataset, fmt: Format, out: Path | None, selection: ExportFilter, page_size: int) -> None:
    started = time.perf_counter()
    counter = [0]
    with one_shot(catch_up=dataset is not Dataset.EVENTS) as runtime, _bar(f"exporting {dataset}") as bar:
        try:
            parties, declarations = checked(runtime, list(selection.parties), list(selection.declarations))
        except DomainError as error:
            _fail(error.message)
        selection = replace(selection, parties=parties, declarations=declarations)
        task = bar.add_task(str(dataset), total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if dataset is Dataset.EVENTS:
            pages = event_pages(runtime.app.recorder, runtime.app.mapper, selection, runtime.follower.publications,
                                page_size=page_size, progress=progress)
        elif dataset is Dataset.STANCES:
            pages = stance_pages(runtime.store, selection, page_size=page_size, progress=progress)
        elif dataset in PARTIES_NEEDED:
            try:
                pages = iter([alignment_table(runtime, dataset, selection)])
            except DomainError as error:
                _fail(error.message)
        else:
            pages = timeline_pages(runtime.store, selection, page_size=page_size, progress=progress)
        pages = _counted(pages, counter)
        if fmt is Format.PARQUET:
            assert out is not None
            partial = out.with_name(out.name + ".partial")
            try:
                write_parquet(dataset, pages, partial)
                os.replace(partial, out)
            except ParquetUnavailable as error:
                partial.unlink(missing_ok=True)
                _fail(str(error))
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        else:
            chunks = jsonl_chunks(pages) if fmt is Format.JSONL else csv_chunks(dataset, pages)
            with _written(out) as handle:
                for chunk in chunks:
                    handle.write(chunk)
    _summary(f"exported {counter[0]:,} rows of {dataset}", out, started, counter[0])
    err.print(f"known_at {selection.known_at}" + (f", at {selection.at}" if selection.at else ""))


def _summary(what: str, out: Path | None, started: float, rows: int) -> None:
    seconds = time.perf_counter() - started
    rate = f"{rows / seconds:,.0f} rows/s" if seconds > 0 else ""
    err.print(f"{what} to {out or 'standard output'} in {seconds:.2f} s ({rate})")


def _backup(out: Path | None, page_size: int) -> None:
    started = time.perf_counter()
    key = Settings().backup_key_bytes
    end = BackupEnd()
    with one_shot(catch_up=False) as runtime, _bar("backing up the log") as bar:
        recorder = runtime.app.recorder
        task = bar.add_task("backup", total=recorder.max_notification_id() or 0)
        lines = backup_lines(recorder, page_size=page_size, key=key, end=end,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
        with _written(out) as handle:
            for chunk in lines:
                handle.write(chunk)
    _summary(f"backed up the log up to position {end.last_position:,}", out, started, end.events)
    if end.head_hash:
        err.print(f"head hash {end.head_hash} (position {end.last_position}): keep it apart from the backup, and "
                  f"restore with --expect-head {end.head_hash}")
    err.print("signed with DIPLO_BACKUP_KEY (HMAC-SHA256)" if end.signed
              else "not signed: set DIPLO_BACKUP_KEY to sign backups")


HOLDABLE_BYTES = 512 * 2**20  # a backup up to this size (uncompressed) is checked once and held for the insert


def _holdable(file: Path) -> bool:
    size = file.stat().st_size * (8 if file.suffix == ".gz" else 1)  # gzip shrinks JSON lines ~8x
    return size <= HOLDABLE_BYTES


def _first_object(file: Path) -> object:
    """The file's first non-blank line, decoded (None when it is not JSON: the readers say why)."""
    with _open_text(file, "r") as handle:
        for text in handle:
            if text.strip():
                try:
                    return json.loads(text)
                except ValueError:
                    return None
    return None


def _catch_up(runtime: Runtime) -> int:
    projector = runtime.projector
    with _bar("catching up the read models") as bar:
        task = bar.add_task("catch up", total=projector.head())

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        projector.catch_up(progress)
    return projector.position()


def _import_commands(file: Path) -> None:
    """A command file: every command decided by the service's own rules, then all stored in one transaction."""
    started = time.perf_counter()
    with one_shot(catch_up=False) as runtime:
        try:
            with _open_text(file, "r") as handle, _bar("deciding the commands") as bar:
                task = bar.add_task("decide", total=None)
                result = runtime.app.handle_all(
                    read_commands(handle), progress=lambda n: bar.update(task, completed=n), every=1000
                )
                bar.update(task, completed=result.commands, total=result.commands)
        except CommandLineError as error:
            _fail(f"{error}; nothing was stored")
        except CommandRefused as error:
            where = f" ({error.error.field})" if error.error.field else ""
            _fail(f"line {error.number}{where}: {error.error.message}; nothing was stored")
        except DomainError as error:
            _fail(error.message)
        stored = time.perf_counter()
        position = _catch_up(runtime)
    if not result.events:
        err.print("the file holds no commands; nothing was stored")
        return
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(result.kinds.items()))
    err.print(f"imported {result.commands:,} commands ({kinds}): {result.events:,} stored events at positions "
              f"{result.first_position:,} to {result.last_position:,}, in {stored - started:.2f} s "
              f"({result.events / max(stored - started, 1e-9):,.0f} events/s), one transaction")
    err.print(f"read models caught up to position {position:,} in {time.perf_counter() - stored:.2f} s")


def import_(
    file: Annotated[Path, typer.Argument(exists=True, readable=True,
                                         help="A command file (JSON lines, one command each), a backup "
                                              "(diplo export --all), an events export (jsonl), or a data set "
                                              "release: an unvotes release folder or Voeten's .RData")],
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=100_000,
                                            help="Events per transaction (backups and events exports)")]
    = 1000,
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", help="The head hash `diplo export --all` printed: a backup whose events do not chain "
        "to it is refused before anything is inserted")] = None,
    release: Annotated[str | None, typer.Option("--release", help="A data set release's name (default: the "
                                                "folder's or file's name)")] = None,
) -> None:
    """Import a file; what happens depends on what it holds.

    A data set release (an unvotes folder of three .rda files, or Voeten's UNVotesPublished.RData) is loaded as
    a knowledge time: only what changed since the record last heard from that data set is stored, in one
    transaction, naming the release; loading the same release twice stores nothing.

    A command file (JSON lines: {"command": "record_act", ...}, the other fields as the HTTP request bodies)
    is decided by the same rules as the API, against what the store already holds, and stored whole in one
    transaction, or not at all: the first refused line is named and nothing is stored.
    A backup, or a JSON-lines events export, is restored into an EMPTY store, checked first: with
    DIPLO_BACKUP_KEY set, a backup must carry a matching signature; with --expect-head, its events must chain to
    that head. The store is marked incomplete until the last event is in. Then the read models catch up.
    """
    if expect_head is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", expect_head.strip()):
        _fail("--expect-head takes the 64 hex digits of the head hash that diplo export --all printed")
    expected = Expected(key=Settings().backup_key_bytes, head=expect_head.strip().lower() if expect_head else None)
    if is_release(file):
        with one_shot(catch_up=False) as runtime:
            load_release(runtime, file, release, err)
        return
    if file.is_dir():
        _fail(f"{file} is a folder; only a data set release (unvotes) is imported from a folder")
    first = _first_object(file)
    if isinstance(first, dict) and looks_like_commands(first):
        _import_commands(file)
        return
    started = time.perf_counter()
    with one_shot(catch_up=False) as runtime:
        recorder, mapper = runtime.app.recorder, runtime.app.mapper
        try:
            head = recorder.max_notification_id() or 0
            if head:
                unfinished = restore_marker.pending(recorder)
                if unfinished is not None:
                    _fail(str(restore_marker.IncompleteRestore(unfinished)))
                raise StoreNotEmpty(head)
            # First read the whole file and check every line, so a bad or truncated file inserts nothing.
            # The checked events are kept for the insert when the file is not too large to hold;
            # a larger one is read (and checked) again.
            kept: list[Restorable] | None = [] if _holdable(file) else None
            with _open_text(file, "r") as handle, _bar("checking the file") as bar:
                task = bar.add_task("check", total=None)
                kind, events = read_file(handle, mapper, expected)
                total = 0
                for restorable in events:
                    total += 1
                    if kept is not None:
                        kept.append(restorable)
                    if total % 1000 == 0:
                        bar.update(task, completed=total)
                bar.update(task, completed=total, total=total)
            with ExitStack() as stack, _bar("importing") as bar:
                task = bar.add_task("import", total=total)
                if kept is None:
                    kind, events = read_file(stack.enter_context(_open_text(file, "r")), mapper, expected)
                # Marked until the last batch is in: a restore killed half-way leaves a store that the server
                # and `diplo verify` refuse, not one that looks whole.
                restore_marker.mark(recorder, f"{file.name}, {total:,} events, begun "
                                              f"{datetime.now(UTC).isoformat(timespec='seconds')}")
                report = restore(recorder, kind, events if kept is None else kept, batch_size=batch_size,
                                 progress=lambda done: bar.update(task, completed=done))
                restore_marker.clear(recorder)
        except ImportRefused as error:
            _fail(str(error))
        inserted = time.perf_counter()
        projector = runtime.projector
        with _bar("catching up the read models") as bar:
            task = bar.add_task("catch up", total=report.last_position)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            # Read models left from an earlier log would skip the restored events: rebuild them instead.
            if any(projector.positions().values()):
                projector.rebuild(progress)
            else:
                projector.catch_up(progress)
        position = projector.position()
        link = recorder.chain_head() if hasattr(recorder, "chain_head") else None
    what = "a backup of the whole log" if report.format == "log" else "an export of public events"
    err.print(f"restored {what}: {report.inserted:,} stored events in "
              f"{inserted - started:.2f} s ({report.inserted / max(inserted - started, 1e-9):,.0f} events/s)")
    if report.format == "events":
        err.print(f"  {report.from_source:,} public events, and {report.inserted - report.from_source:,} index "
                  "entries regenerated (idempotency keys are not part of a public export)")
    if report.moved:
        err.print(f"  [yellow]{report.moved:,} events took new positions[/yellow]: the source log had gaps "
                  "(or left bookkeeping out); the order, ids, versions and times are unchanged")
    else:
        err.print("  every event kept its position")
    if link is not None:
        matches = expected.head is None or link[1].hex() == expected.head
        err.print(f"restored head hash {link[1].hex()} (position {link[0]})"
                  + ("" if expected.head is None else " = --expect-head" if matches
                     else " (the events took new positions, so their links differ from the backup's)"))
    err.print(f"read models caught up to position {position:,} in {time.perf_counter() - inserted:.2f} s")


def register(app: typer.Typer) -> None:
    """Adds `diplo export` and `diplo import` to the command line."""
    app.command("export")(export)
    app.command("import")(import_)
