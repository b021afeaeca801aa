"""`diplo verify`: recomputes the hash chain over the event log and names the first position that breaks it."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.settings import Settings
from api.terminal import ReadFormat, err
from domain.service import DiplomaticRecord
from storage import restore_marker, verifications
from storage.chain import ChainReport, parse_anchor, verify
from storage.log import open_chained_log
from storage.verifications import Verification

console = Console(soft_wrap=True)  # hashes and positions stay on one line, for copying and for scripts
SHOWN_BREAKS = 10


def register(app: typer.Typer) -> None:
    """Adds `diplo verify` to the command line."""
    app.command("verify")(verify_command)


def verify_command(
    anchor: Annotated[str | None, typer.Option(
        help="POSITION:HASH printed by an earlier run and kept elsewhere: fails if the chain no longer has it "
             "(catches a chain recomputed wholesale)")] = None,
    strict: Annotated[bool, typer.Option(
        help="Also fail when events stored before the chain began are not covered by it")] = False,
    page_size: Annotated[int, typer.Option(min=1, max=100_000, help="Events read per query")] = 5_000,
    record: Annotated[bool, typer.Option(
        help="Keep the result beside the log, where the API's /metrics reports the last run")] = True,
    output: Annotated[ReadFormat, typer.Option("--format", help="table: for reading; json: the report as one JSON "
                                               "object on standard output (the exit status is the same)")]
    = ReadFormat.TABLE,
) -> None:
    """Recompute the hash chain over the whole event log: OK with the count and the head hash, or the
    first position that was altered, inserted or removed (exit status 1)."""
    try:
        expected = parse_anchor(anchor) if anchor else None
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--anchor") from None
    settings = Settings()
    try:
        with open_chained_log(DiplomaticRecord.name, settings.eventsourcing_env()) as recorder:
            unfinished = restore_marker.pending(recorder)
            if unfinished is not None:
                err.print(f"[red]incomplete:[/red] {restore_marker.IncompleteRestore(unfinished)}")
                raise typer.Exit(1)
            with Progress(
                TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, transient=True, disable=not console.is_terminal,
            ) as bar:
                task = bar.add_task("verify", total=None)
                report = verify(recorder, anchor=expected, page_size=page_size,
                                progress=lambda done, stop: bar.update(task, completed=done, total=stop))
            if output is ReadFormat.JSON:
                status = _status(report, strict=strict)
                sys.stdout.write(json.dumps(_as_json(report, status)) + "\n")
            else:
                status = _print(report, strict=strict)
            if record:
                _record(recorder, report, ok=status == 0)
    except typer.Exit:
        raise
    except Exception as error:  # an unreachable store: say so, do not pretend the chain holds
        err.print(f"[red]cannot verify:[/red] {type(error).__name__}: {error}")
        raise typer.Exit(2) from None
    raise typer.Exit(status)


def _record(recorder: object, report: ChainReport, *, ok: bool) -> None:
    """Keeps the result beside the log, for the API's /metrics; a store that refuses it changes no verdict."""
    first = report.first_break
    try:
        verifications.record(recorder, Verification(time.time(), ok, report.linked, report.head_position,
                                                    first.position if first is not None else None))
    except Exception as error:
        err.print(f"[yellow]note:[/] the result was not recorded for /metrics: {type(error).__name__}: {error}")


def _status(report: ChainReport, *, strict: bool) -> int:
    """The exit status: 1 when the chain is broken, or (with --strict) when events before it are not covered."""
    return 1 if not report.ok or (strict and report.unlinked_before_start) else 0


def _as_json(report: ChainReport, status: int) -> dict[str, Any]:
    """What `--format json` prints: the report's fields, the head hash in hex, and the anchor to keep."""
    head = report.head_hash.hex() if report.head_hash is not None else None
    return {
        "ok": status == 0, "events": report.events, "linked": report.linked, "starts_at": report.starts_at,
        "unlinked_before_start": report.unlinked_before_start, "first_unlinked": report.first_unlinked,
        "head_position": report.head_position, "head_hash": head,
        "anchor": f"{report.head_position}:{head}" if head is not None else None,
        "breaks": [{"position": b.position, "kind": str(b.kind), "detail": b.detail}
                   for b in sorted(report.breaks, key=lambda b: b.position)],
        "more_breaks": report.more_breaks,
    }


def _print(report: ChainReport, *, strict: bool) -> int:
    """Prints what was found; returns the exit status."""
    failed = not report.ok
    if report.unlinked_before_start:
        where = (f"starts at position {report.starts_at}" if report.starts_at is not None
                 else "has not started yet (no event stored since tamper evidence was enabled)")
        colour = "red" if strict else "yellow"
        console.print(f"[{colour}]note:[/] the chain {where}: {report.unlinked_before_start} event(s) from position "
                      f"{report.first_unlinked} were stored before it began and are not covered")
        failed = failed or strict
    if not report.ok:
        first = report.first_break
        assert first is not None
        console.print(f"[red]chain BROKEN[/red] at position {first.position} ({first.kind}): {first.detail}")
        rest = sorted(report.breaks, key=lambda b: b.position)[1:SHOWN_BREAKS]
        for item in rest:
            console.print(f"  also position {item.position} ({item.kind}): {item.detail}")
        hidden = len(report.breaks) - 1 - len(rest) + report.more_breaks
        if hidden > 0:
            console.print(f"  … and {hidden} more")
        return 1
    if report.head_hash is None:
        if not report.events:
            console.print("the log is empty: nothing to verify")
        return 1 if failed else 0
    console.print(f"[green]chain OK[/green]: {report.linked} events linked, positions {report.starts_at} to "
                  f"{report.head_position}; head hash {report.head_hash.hex()}")
    console.print(f"keep this anchor elsewhere and check it later with --anchor {report.head_position}:"
                  f"{report.head_hash.hex()}", style="dim")
    return 1 if failed else 0
