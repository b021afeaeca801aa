"""`diplo agreement`, `diplo vote-share` and `diplo closest`: how states align, read straight from the local store.

They answer exactly as `GET /v1/agreement`, `GET /v1/parties/{code}/vote-share` and `GET /v1/parties/{code}/closest`
do (api/alignment_answers.py: the same checks, queries and shapes), as a Rich table, or as CSV or JSON lines on
standard output for scripts (the columns of the `agreement` and `vote-share` exports). Errors go to standard error.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from api.alignment_answers import MIN_JOINT, Filters, answer_agreement, answer_closest, answer_vote_share
from api.answers import parse_known_at
from api.terminal import day, one_shot
from domain.errors import DomainError
from domain.succession import Include
from domain.values import Period
from projections.exports import Dataset, Record, alignment_rows, csv_chunks, jsonl_chunks

console = Console()
err = Console(stderr=True, soft_wrap=True)
CLOSEST_COLUMNS = ("party", "by", "period", "rank", "other", "joint", "identical", "agreement", "kappa", "ranked",
                   "include", "issue", "important", "known_at")


class Output(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSONL = "jsonl"


By = Annotated[Period, typer.Option("--by", help="Group by year, session or decade")]
From = Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="The first day")]
To = Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="The last day")]
IssueOption = Annotated[str | None, typer.Option("--issue", help="Only this issue: its code or name (hr, 'Human "
                                                 "rights')")]
Important = Annotated[bool | None, typer.Option("--important/--not-important",
                                                help="Only roll calls classified important, or only those not")]
IncludeOption = Annotated[Include | None, typer.Option("--include", help="predecessors: follow the state through "
                                                       "its predecessors (the USSR for RU)")]
KnownAt = Annotated[str | None, typer.Option("--known-at", help="What the record said then: a datetime with zone or "
                                             "a date (default now)")]
Format = Annotated[Output, typer.Option("--format", help="A Rich table, or CSV or JSON lines on standard output")]


def _fail(error: DomainError) -> NoReturn:
    where = f" ({error.field})" if error.field else ""
    err.print(f"[red]error{where}:[/red] {error.message}")
    raise typer.Exit(2)


def _filters(known_at: str | None, date_from: datetime | None, date_to: datetime | None, issue: str | None,
             important: bool | None, include: Include | None) -> Filters:
    return Filters(parse_known_at(known_at), day(date_from), day(date_to), issue, important,
                   (include,) if include else ())


def _answer(question: Any, *args: Any) -> dict[str, Any]:
    """One question asked of the local store (read models caught up first); a refusal exits 2 on stderr."""
    with one_shot() as runtime:
        try:
            with runtime.store.reading() as sql:
                answer: dict[str, Any] = question(runtime, sql, *args)
                return answer
        except DomainError as error:
            _fail(error)


def _number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _share(value: float) -> str:
    return f"{value * 100:.1f}%"


def _about(answer: dict[str, Any]) -> str:
    said = [f"issue {answer['issue']}"] if answer["issue"] else []
    if answer["important"] is not None:
        said.append("important roll calls" if answer["important"] else "roll calls not classified important")
    if answer["include"]:
        said.append("with predecessors")
    return (f" ({', '.join(said)})" if said else "") + f", as recorded by {answer['known_at']}"


def _write_rows(dataset: Dataset, rows: list[Record], output: Output) -> None:
    chunks = jsonl_chunks([rows]) if output is Output.JSONL else csv_chunks(dataset, [rows])
    for chunk in chunks:
        sys.stdout.write(chunk.replace("\r\n", "\n"))  # a terminal's line ends; the HTTP export keeps RFC 4180's


def agreement_command(
    a: Annotated[str, typer.Argument(help="A party's code, e.g. US")],
    b: Annotated[str, typer.Argument(help="The other party's code, e.g. IL")],
    by: By = Period.YEAR,
    date_from: From = None,
    date_to: To = None,
    issue: IssueOption = None,
    important: Important = None,
    include: IncludeOption = None,
    known_at: KnownAt = None,
    output: Format = Output.TABLE,
) -> None:
    """How two states voted alike, per period: joint votes, identical share, agreement (Voeten) and kappa (Häge)."""
    try:
        filters = _filters(known_at, date_from, date_to, issue, important, include)
    except DomainError as error:
        _fail(error)
    answer = _answer(answer_agreement, a, b, by, filters)
    if output is not Output.TABLE:
        _write_rows(Dataset.AGREEMENT, alignment_rows(Dataset.AGREEMENT, answer), output)
        return
    table = Table(title=f"Agreement of {answer['a']} and {answer['b']} by {by}{_about(answer)}",
                  caption="joint: roll calls both voted on (yes, no, abstain); identical: share voting the same; "
                          "agreement: an abstention against a vote counts 1/2; kappa: beyond chance; — undefined")
    for column in ("period", "joint", "identical", "agreement", "kappa"):
        table.add_column(column, justify="left" if column == "period" else "right")
    for p in answer["periods"]:
        table.add_row(p["period"], str(p["joint"]), _number(p["identical"]), _number(p["agreement"]),
                      _number(p["kappa"]))
    console.print(table)


def vote_share_command(
    party: Annotated[str, typer.Argument(help="A party's code, e.g. US")],
    by: By = Period.YEAR,
    date_from: From = None,
    date_to: To = None,
    issue: IssueOption = None,
    important: Important = None,
    include: IncludeOption = None,
    known_at: KnownAt = None,
    output: Format = Output.TABLE,
) -> None:
    """A party's votes cast per period, and the share of yes, no and abstain among them."""
    try:
        filters = _filters(known_at, date_from, date_to, issue, important, include)
    except DomainError as error:
        _fail(error)
    answer = _answer(answer_vote_share, party, by, filters, "party")
    if output is not Output.TABLE:
        _write_rows(Dataset.VOTE_SHARE, alignment_rows(Dataset.VOTE_SHARE, answer), output)
        return
    table = Table(title=f"Votes of {answer['party']} by {by}{_about(answer)}",
                  caption="votes: yes, no and abstain cast (absences are not votes); shares of the votes cast")
    for column in ("period", "votes", "yes", "no", "abstain"):
        table.add_column(column, justify="left" if column == "period" else "right")
    for p in answer["periods"]:
        table.add_row(p["period"], str(p["votes"]), _share(p["yes"]), _share(p["no"]), _share(p["abstain"]))
    console.print(table)


def _closest_rows(answer: dict[str, Any]) -> list[Record]:
    asked = {"party": answer["party"], "by": answer["by"], "period": answer["period"],
             "include": " ".join(answer["include"]) or None, "issue": answer["issue"],
             "important": answer["important"], "known_at": answer["known_at"]}
    listed = [(r, True) for r in answer["parties"]] + [(r, False) for r in answer["too_few"]]
    return [{**asked, "rank": rank, "other": r["party"], "ranked": ranked,
             **{k: r[k] for k in ("joint", "identical", "agreement", "kappa")}}
            for rank, (r, ranked) in enumerate(listed, start=1)]


def _csv(rows: Iterable[Record], columns: tuple[str, ...]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else str(row[c]).lower() if isinstance(row[c], bool) else row[c]
                         for c in columns])


def closest_command(
    party: Annotated[str, typer.Argument(help="A party's code, e.g. IN")],
    year: Annotated[int | None, typer.Option("--year", min=1900, max=2999, help="This year")] = None,
    session: Annotated[int | None, typer.Option("--session", min=1, max=9999, help="This session")] = None,
    decade: Annotated[int | None, typer.Option("--decade", min=1900, max=2990, help="The decade from this year "
                                               "(1990: the 1990s)")] = None,
    issue: IssueOption = None,
    important: Important = None,
    include: IncludeOption = None,
    known_at: KnownAt = None,
    min_joint: Annotated[int, typer.Option("--min-joint", min=1, help="Rank only parties with at least this many "
                                           "joint votes")] = MIN_JOINT,
    top: Annotated[int, typer.Option("--top", min=0, help="The table shows this many closest and farthest (0: all)")]
    = 10,
    output: Format = Output.TABLE,
) -> None:
    """Every other party ranked by agreement with this one in one year, session or decade: closest first."""
    chosen = [(by, value) for by, value in ((Period.YEAR, year), (Period.SESSION, session),
                                              (Period.DECADE, decade)) if value is not None]
    if len(chosen) != 1:
        _fail(DomainError("name one period: --year, --session or --decade", field="period"))
    by, value = chosen[0]
    period = f"{value - value % 10}s" if by is Period.DECADE else str(value)
    try:
        filters = _filters(known_at, None, None, issue, important, include)
    except DomainError as error:
        _fail(error)
    answer = _answer(answer_closest, party, by, period, filters, min_joint, "party")
    if output is Output.CSV:
        _csv(_closest_rows(answer), CLOSEST_COLUMNS)
        return
    if output is Output.JSONL:
        for row in _closest_rows(answer):
            sys.stdout.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        return
    ranked = answer["parties"]
    shown = list(enumerate(ranked, start=1))
    if top and len(ranked) > 2 * top:
        shown = [*shown[:top], (0, None), *shown[-top:]]
    too_few = ", ".join(f"{r['party']} ({r['joint']})" for r in answer["too_few"])
    table = Table(title=f"Who voted most like {answer['party']} in {by} {period}{_about(answer)}",
                  caption=f"{len(ranked)} parties with at least {min_joint} joint votes, closest first"
                          + (f"; fewer: {too_few}" if too_few else ""))
    for column in ("rank", "party", "joint", "agreement", "identical", "kappa"):
        table.add_column(column, justify="left" if column == "party" else "right")
    for rank, r in shown:
        if r is None:
            table.add_row("…", "", "", "", "", "")
            continue
        table.add_row(str(rank), r["party"], str(r["joint"]), _number(r["agreement"]), _number(r["identical"]),
                      _number(r["kappa"]))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Adds `diplo agreement`, `diplo vote-share` and `diplo closest` to the command line."""
    app.command("agreement")(agreement_command)
    app.command("vote-share")(vote_share_command)
    app.command("closest")(closest_command)

