"""`diplo replay` and `diplo diff`: the analysts' questions from a terminal, read straight from the local store.

They answer exactly as `GET /v1/replay` and `GET /v1/diff` do (the same checks, queries and shapes),
as a Rich table or as JSON, JSON lines or CSV on standard output for notebooks and spreadsheets; errors go to
standard error.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.analysis_schemas import DiffPublic, ReplayFrame, ReplayHeader
from api.answers import answer_diff, check_replay_range, check_scope, parse_known_at
from api.terminal import STYLE, SYMBOL, ReadFormat, day, one_shot, print_json, refused
from domain.errors import DomainError
from domain.values import ActKind, Confidence, EventKind, Stance
from projections.analysis import Pair, Scope, Step, declarations_axis, replay

console = Console()
LEGEND = ("✓ signed   ✗ declined   ↩ withdrawn   · none   ~ approximate (known only to the month or year)   "
          "bold: changed in this frame")
CSV_COLUMNS = ("row", "frame", "period", "at", "party", "declaration_id", "previous", "stance", "since", "precision",
               "approximate", "confidence", "event_id", "position")


class ReplayFormat(StrEnum):
    """A replay's formats: those of every read command, and a frame a line (JSON lines, CSV) for long ones."""

    TABLE = ReadFormat.TABLE.value
    JSON = ReadFormat.JSON.value
    JSONL = "jsonl"
    CSV = "csv"


Parties = Annotated[list[str] | None, typer.Option("--party", help="Only this party (repeatable)")]
Declarations = Annotated[list[str] | None, typer.Option("--declaration", help="Only this declaration (repeatable)")]
KnownAt = Annotated[
    str | None, typer.Option("--known-at", help="Transaction time: a datetime with zone or a date (default now)")
]
MinConfidence = Annotated[
    Confidence, typer.Option("--min-confidence", help="Count only acts at or above this confidence")
]


# -- diplo replay -----------------------------------------------------------------------------------------------


def _cell(stances: list[dict[str, Any]], changed: bool, single: bool) -> str:
    """One party: its stance's symbol. Several: how many parties hold each stance."""
    if single:
        found = stances[0] if stances else None
        stance = found["stance"] if found else Stance.NONE
        text = SYMBOL[stance] + ("~" if found and found["approximate"] else "")
    elif not stances:
        text, stance = SYMBOL[Stance.NONE], Stance.NONE
    else:
        counts = {k: sum(s["stance"] == k for s in stances) for k in ActKind}
        text = " ".join(f"{SYMBOL[k]}{n}" for k, n in counts.items() if n)
        text += "~" if any(s["approximate"] for s in stances) else ""
        stance = max(counts, key=lambda k: counts[k])
    return f"[{'bold ' if changed else ''}{STYLE[stance]}]{text}[/]"


def _table(frames: Iterator[dict[str, Any]], declarations: list[dict[str, Any]], scope: Scope, title: str) -> Table:
    single = len(scope.parties) == 1
    table = Table(title=title, caption=LEGEND)
    table.add_column("period")
    table.add_column("at")
    for declaration in declarations:
        table.add_column(declaration["id"], justify="center", overflow="fold")
    state: dict[Pair, dict[str, Any]] = {}
    for frame in frames:
        if frame["state"] is not None:
            state = {(c["party"], c["declaration_id"]): c for c in frame["state"]}
        for change in frame["changes"]:
            pair = (change["party"], change["declaration_id"])
            if change["stance"] == Stance.NONE:
                state.pop(pair, None)
            else:
                state[pair] = change
        changed = {c["declaration_id"] for c in frame["changes"]}
        cells = [_cell([c for (_, d), c in state.items() if d == declaration["id"]], declaration["id"] in changed,
                       single) for declaration in declarations]
        table.add_row(frame["period"], frame["at"], *cells)
    return table


def _csv_rows(frames: Iterator[dict[str, Any]]) -> Iterator[list[Any]]:
    """The first frame's full state (row `state`), then every change (row `change`), one line each."""
    for frame in frames:
        tagged = [("state", c | {"previous": ""}) for c in frame["state"] or []]
        tagged += [("change", c) for c in frame["changes"]]
        for row, item in tagged:
            values = [item.get(k) for k in CSV_COLUMNS[4:]]
            # JSON's spelling of booleans, so the CSV reads the same as the other formats.
            yield [row, frame["frame"], frame["period"], frame["at"],
                   *(str(v).lower() if isinstance(v, bool) else v for v in values)]


def replay_command(
    date_from: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="The first day")],
    date_to: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="The last day (default today)")]
    = None,
    step: Annotated[Step, typer.Option(help="One frame per calendar period of this step")] = Step.MONTH,
    party: Parties = None,
    declaration: Declarations = None,
    known_at: KnownAt = None,
    min_confidence: MinConfidence = Confidence.LOW,
    output: Annotated[ReplayFormat, typer.Option("--format", help="A Rich table; or on standard output JSON (as "
                                                 "GET /v1/replay), JSON lines (a frame a line) or CSV")]
    = ReplayFormat.TABLE,
) -> None:
    """Replay the record frame by frame: dates down, declarations across, a symbol per stance."""
    with one_shot() as runtime:
        try:
            last = check_replay_range(date_from.date(), day(date_to), step)
            known = parse_known_at(known_at)
            with runtime.store.reading() as sql:
                scope = check_scope(runtime, sql, party, declaration, min_confidence)
                declarations = declarations_axis(sql, last.isoformat(), known, scope)
        except DomainError as error:
            refused(error)
        frames = replay(runtime.store.reading, first=date_from.date(), last=last, step=step, known_at=known,
                        scope=scope)
        if output is ReplayFormat.JSON:  # as GET /v1/replay: the header's fields, then the frames
            header = ReplayHeader.model_validate({
                "from": date_from.date().isoformat(), "to": last.isoformat(), "step": step, "known_at": known,
                "min_confidence": scope.min_confidence, "parties": list(scope.parties), "declarations": declarations,
            })
            sys.stdout.write(header.model_dump_json(by_alias=True)[:-1] + ',"frames":[')
            for i, frame in enumerate(frames):
                sys.stdout.write(("," if i else "") + ReplayFrame.model_validate(frame).model_dump_json())
            sys.stdout.write("]}\n")
        elif output is ReplayFormat.JSONL:
            for frame in frames:
                sys.stdout.write(ReplayFrame.model_validate(frame).model_dump_json() + "\n")
        elif output is ReplayFormat.CSV:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            writer.writerows(_csv_rows(frames))
        else:
            who = ", ".join(scope.parties) or "every party"
            title = (f"Replay by {step} of {who}, {date_from.date().isoformat()} to {last.isoformat()}, as recorded "
                     f"by {known}" + (f", acts of {min_confidence} confidence or more" if scope.min_confidence
                                      != Confidence.LOW else ""))
            console.print(_table(frames, declarations, scope, title))


# -- diplo diff -------------------------------------------------------------------------------------------------


def _side(side: dict[str, Any]) -> str:
    if side["stance"] == Stance.NONE:
        return f"[{STYLE[Stance.NONE]}]none[/]"
    approximate = "~" if side["approximate"] else ""
    return f"[{STYLE[side['stance']]}]{side['stance']}[/] since {side['since']}{approximate} ({side['confidence']})"


def _event(event: dict[str, Any]) -> str:
    if event["kind"] == EventKind.RETRACTED:
        target = event["retracts"]
        return (f"retraction #{event['position']} of {target['kind']} {target['occurred_on']} "
                f"(#{target['position']}): {event['reason']}")
    retracted = " (since retracted)" if event["retracted"] else ""
    return f"{event['kind']} {event['occurred_on']} #{event['position']}{retracted}"


def diff_command(
    from_at: Annotated[datetime | None, typer.Option("--from-at", formats=["%Y-%m-%d"], help="Two dates: the earlier")]
    = None,
    to_at: Annotated[datetime | None, typer.Option("--to-at", formats=["%Y-%m-%d"], help="Two dates: the later")]
    = None,
    known_at: KnownAt = None,
    at: Annotated[datetime | None, typer.Option("--at", formats=["%Y-%m-%d"],
                                                help="Two versions: the date both are asked about (default today)")]
    = None,
    known_at_a: Annotated[str | None, typer.Option("--known-at-a", help="Two versions: the earlier moment")] = None,
    known_at_b: Annotated[str | None, typer.Option("--known-at-b", help="Two versions: the later moment")] = None,
    party: Parties = None,
    declaration: Declarations = None,
    min_confidence: MinConfidence = Confidence.LOW,
    output: Annotated[ReadFormat, typer.Option("--format", help="A Rich table, or JSON on stdout (as GET /v1/diff)")]
    = ReadFormat.TABLE,
) -> None:
    """Every stance that differs between two dates or two versions of the record, and what made the difference."""
    with one_shot() as runtime:
        try:
            with runtime.store.reading() as sql:
                body = answer_diff(runtime, sql, from_at=day(from_at), to_at=day(to_at), known_at=known_at,
                                   at=day(at), known_at_a=known_at_a, known_at_b=known_at_b, parties=party,
                                   declarations=declaration, min_confidence=min_confidence)
        except DomainError as error:
            refused(error)
    if output is ReadFormat.JSON:  # as GET /v1/diff
        print_json(DiffPublic.model_validate(body))
        return
    if body["kind"] == "valid_time":
        title = f"From {body['from_at']} to {body['to_at']}, as recorded by {body['known_at']}"
        before, after = body["from_at"], body["to_at"]
    else:
        title = f"On {body['at']}, as recorded by {body['known_at_a']} and then by {body['known_at_b']}"
        before, after = "before", "after"
    n = len(body["differences"])
    if not n and body.get("rollcalls"):
        _print_rollcalls(body["rollcalls"], body["rollcall_counts"])
        return
    table = Table(title=title, caption=f"{n} difference{'' if n == 1 else 's'}   ~ approximate")
    for column in ("party", "declaration", before, after, "what made the difference"):
        table.add_column(column)
    for d in body["differences"]:
        table.add_row(d["party"], d["declaration_id"], _side(d["before"]), _side(d["after"]),
                      "\n".join(_event(e) for e in d["events"]))
    console.print(table)
    if body.get("rollcalls"):
        _print_rollcalls(body["rollcalls"], body["rollcall_counts"])


ROLLCALLS_SHOWN = 20  # a release changes thousands of roll calls; the table shows the first, JSON has them all


def _print_rollcalls(rollcalls: list[dict[str, Any]], counts: dict[str, int]) -> None:
    table = Table(title="Roll calls", caption=(
        f"{counts['rollcalls_added']} added, {counts['rollcalls_corrected']} corrected; votes: "
        f"{counts['votes_added']} added, {counts['votes_retracted']} retracted, {counts['votes_changed']} changed"))
    for column in ("roll call", "date", "change", "what differs", "by"):
        table.add_column(column)
    for r in rollcalls[:ROLLCALLS_SHOWN]:
        what = [f"{f['field']}: {f['before']!r} -> {f['after']!r}" for f in r["fields"]]
        what += [f"{n} votes {name}" for name, n in r["votes"].items() if n]
        what += [f"{v['party']}: {v['before'] or '-'} -> {v['after'] or '-'}" for v in r.get("party_votes") or ()]
        table.add_row(r["rollcall_id"], r["date"], r["change"], "\n".join(what),
                      ", ".join(sorted({e["release"] or f"#{e['position']}" for e in r["events"]})))
    console.print(table)
    if len(rollcalls) > ROLLCALLS_SHOWN:
        console.print(f"… and {len(rollcalls) - ROLLCALLS_SHOWN} more roll calls (--format json lists them all)")


def register(app: typer.Typer) -> None:
    """Adds `diplo replay` and `diplo diff` to the command line."""
    app.command("replay")(replay_command)
    app.command("diff")(diff_command)
