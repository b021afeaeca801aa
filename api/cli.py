"""`diplo`: seed, serve and ask the record from a terminal. Reads go straight to the local store."""

from __future__ import annotations

import json
import sys
import time
from contextlib import suppress
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api import logging_setup, stall
from api.answers import parse_at, parse_known_at
from api.answers import status as read_status
from api.bootstrap import Runtime, bootstrap, development_token_to_show
from api.filters import party_in_path
from api.logging_setup import LogLevel
from api.schemas import HistoryPublic, SignatoriesPublic, StancesPublic
from api.settings import Settings
from api.terminal import STORE_ERRORS, ReadFormat, day, err, fail, one_shot, print_json, refused, style, unreachable
from domain.errors import DomainError, NotFound
from domain.parties import Party
from domain.values import ActKind, EventKind
from projections.stance_history import signatories, stances_of
from projections.timeline import party_history

app = typer.Typer(help="Diplomatic Timeline: an event-sourced record of diplomacy.", no_args_is_help=True)
console = Console()

AtOption = Annotated[datetime | None, typer.Option("--at", formats=["%Y-%m-%d"], help="Valid time (default today)")]
KnownAtOption = Annotated[
    str | None, typer.Option("--known-at", help="Transaction time: a datetime with zone or a date (default now)")
]
FormatOption = Annotated[ReadFormat, typer.Option(
    "--format", help="table: for reading; json: the HTTP answer's fields, one JSON document on standard output")]


def _party_and_known(runtime: Runtime, code: str, known_at: str | None) -> tuple[Party, str]:
    """The party named on the command line and the normalised --known-at, or a clear error and exit 2."""
    try:
        return party_in_path(runtime, code), parse_known_at(known_at)  # looked up as the routes look it up
    except DomainError as error:
        refused(error)


class SeedSet(StrEnum):
    """What `diplo seed` loads."""

    AI_SUMMITS = "ai-summits"  # the AI summits, their declarations, acts and statements
    UNGA = "unga"  # the UN General Assembly's roll calls, 1946-2019: both unvotes releases, in order


@app.command()
def seed(
    only: Annotated[list[SeedSet] | None, typer.Option("--only", help="Load only this part (repeatable); "
                                                       "`--only ai-summits` is a quick start without the 870,109 "
                                                       "votes of the General Assembly")] = None,
    through: Annotated[str | None, typer.Option("--through", help="Load the AI-summit record only up to this "
                                                "release (e.g. ai-summits-2026-11-25): the record as it stood then")]
    = None,
) -> None:
    """Load the seeds through the application service: the AI summits, then the General Assembly's roll calls
    release by release. A second run stores nothing."""
    from seeds.loader import ReleaseUnexplained
    from seeds.loader import seed as load

    parts = set(only or SeedSet)
    with one_shot(catch_up=False) as runtime:
        if SeedSet.AI_SUMMITS in parts:
            with Progress(TextColumn("seeding the AI summits"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console) as bar:
                task = bar.add_task("seed", total=None)
                try:
                    report = load(runtime.app, through=through,
                                  progress=lambda done, total: bar.update(task, completed=done, total=total))
                except (ValueError, ReleaseUnexplained) as error:
                    err.print(f"[red]error:[/red] {error}")
                    raise typer.Exit(2) from None
                runtime.projector.catch_up()
            if report.releases:
                stored = ", ".join(f"{n} {kind}" for kind, n in report.stored.items() if n)
                console.print(f"AI summits: loaded release(s) {', '.join(report.releases)}: stored "
                              f"{report.total_stored} events ({stored})")
            else:
                console.print("AI summits: every release already in the record")
        if SeedSet.UNGA in parts:
            seed_unga(runtime)


def seed_unga(runtime: Runtime) -> None:
    """The General Assembly's releases in the order they were published, each one only once."""
    from api.cli_releases import Steps, load_release
    from domain.releases import Release
    from seeds.unga import SEED_RELEASES, release_identity

    waiting = [path for path in SEED_RELEASES if not runtime.app.exists(Release.id_for(*release_identity(path)))]
    if not waiting:
        console.print("UN General Assembly: both releases already in the record")
        return
    try:
        import pyreadr  # noqa: F401
    except ImportError:
        console.print("[yellow]UN General Assembly: not loaded[/yellow]: reading its R data files needs the `unga` "
                      "extra (pip install 'diplomatic-timeline[unga]', which `make run` installs); the AI summits "
                      "are seeded")
        return
    console.print(f"UN General Assembly: loading {len(waiting)} release(s) of the unvotes data set (870,109 votes "
                  "in all: about 15 seconds on a quiet 2-core machine, a minute on a busy one; "
                  "`diplo seed --only ai-summits` skips them)")
    with Steps.shown(console, len(waiting)) as steps:
        for path in waiting:
            load_release(runtime, path, None, console, steps)


LogLevelOption = Annotated[
    LogLevel | None,
    typer.Option(case_sensitive=False, help="The lowest level logged (default DIPLO_LOG_LEVEL, else info)"),
]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes sharing the port (with more than "
                                         "one, run the read models in `diplo project`: DIPLO_PROJECTOR=external)")] = 1,
    log_level: LogLevelOption = None,
    proxy_headers: Annotated[bool, typer.Option(
        help="Take the client's address and scheme from X-Forwarded-For and X-Forwarded-Proto, from the proxies "
             "--forwarded-allow-ips names")] = True,
    forwarded_allow_ips: Annotated[str | None, typer.Option(
        help="Comma-separated addresses (or *) of the proxies trusted with those headers (default 127.0.0.1, or "
             "FORWARDED_ALLOW_IPS)")] = None,
    root_path: Annotated[str, typer.Option(help="The path prefix a proxy serves this API under, e.g. /diplo "
                                           "(the proxy strips it; links and /docs include it)")] = "",
) -> None:
    """Serve the HTTP API (OpenAPI at /docs). Never seeds by itself."""
    from api import serving

    settings = Settings()
    if not settings.write_token_list:
        # Shown once, when it is made; after that, where it is kept (a terminal's scrollback is a log too).
        token = development_token_to_show(settings.data_dir)
        where = settings.data_dir / "dev-write-token"
        if token is not None:
            console.print(f"development write token (shown this once; kept in {where}): [bold]{token}[/bold]")
        else:
            console.print(f"development write token: in {where}")
        console.print(f'  curl -H "Authorization: Bearer $(cat {where})" ...')
    if workers > 1 and settings.projector == "inprocess":
        console.print(f"[yellow]note:[/] each of the {workers} workers runs the read models too; with several, "
                      "prefer DIPLO_PROJECTOR=external and one `diplo project`")
    console.print(f"serving on http://{host}:{port}{root_path}  (API docs: http://{host}:{port}{root_path}/docs)")
    # Open event streams are ended first on a shutdown, so it is graceful (clients resume with Last-Event-ID);
    # whatever still runs after DIPLO_SHUTDOWN_GRACE_SECONDS is cancelled, and the lifespan shutdown runs.
    serving.run(settings, host=host, port=port, workers=workers, log_level=str(log_level or settings.log_level),
                log_format=settings.log_format, proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips,
                root_path=root_path.rstrip("/"), grace_seconds=settings.shutdown_grace_seconds)


@app.command()
def stance(
    code: Annotated[str, typer.Argument(help="Party code, e.g. US")],
    at: AtOption = None,
    known_at: KnownAtOption = None,
    output: FormatOption = ReadFormat.TABLE,
) -> None:
    """A party's stance on every declaration at a date, as the record stood at --known-at."""
    on = parse_at(day(at))
    with one_shot() as runtime:
        party, known = _party_and_known(runtime, code, known_at)
        with runtime.store.reading() as sql:
            rows = stances_of(sql, party.code, on, known)
    if output is ReadFormat.JSON:  # as GET /v1/parties/{code}/stances?at=…&known_at=…
        print_json(StancesPublic.model_validate({"party": party.code, "at": on, "known_at": known, "stances": rows}))
        return
    table = Table(title=f"{party.name} ({party.code}) on {on}, as recorded by {known}")
    for column in ("declaration", "stance", "since", "confidence", "first source"):
        table.add_column(column)
    for row in rows:
        source = row["sources"][0] if row["sources"] else {}
        table.add_row(row["declaration_id"], f"[{style(row['stance'])}]{row['stance']}[/]", row["since"],
                      row["confidence"], source.get("outlet") or source.get("title", ""))
    console.print(table if rows else f"{party.code} has no stance on any declaration on {on}")


@app.command()
def history(
    code: Annotated[str, typer.Argument(help="Party code, e.g. GB")],
    known_at: KnownAtOption = None,
    output: FormatOption = ReadFormat.TABLE,
) -> None:
    """Everything a party did, said or hosted, in valid-time order."""
    with one_shot() as runtime:
        party, known = _party_and_known(runtime, code, known_at)
        with runtime.store.reading() as sql:
            entries = party_history(sql, party.code, known_at=known)
    if output is ReadFormat.JSON:  # as GET /v1/parties/{code}/history?known_at=…
        print_json(HistoryPublic.model_validate({"party": party.code, "known_at": known, "entries": entries}))
        return
    table = Table(title=f"History of {party.name} ({party.code}), as recorded by {known}")
    for column in ("date", "act", "declaration / summit", "detail"):
        table.add_column(column)
    for e in entries:
        kind = e["kind"]
        label = f"[{style(kind)}]{kind}[/]"
        if e["retracted"]:
            label = f"[strike]{kind}[/strike] (retracted)"
        detail = _detail(e)
        table.add_row(e["occurred_on"], label, e.get("declaration_id") or e.get("summit_id") or "", detail)
    console.print(table)


def _detail(e: dict[str, Any]) -> str:
    if e["kind"] == "statement":
        return f"{e.get('speaker') or ''}: “{e['text']}”"
    if e["kind"] == "hosted":
        return e.get("title") or ""
    parts = [f"from {e['previous']}" if e.get("previous") else ""]
    if e.get("reason"):
        parts.append(e["reason"])
    return " ".join(p for p in parts if p)


@app.command("signatories")
def signatories_command(
    declaration_id: Annotated[str, typer.Argument(help="Declaration id, e.g. paris-statement")],
    at: AtOption = None,
    known_at: KnownAtOption = None,
    output: FormatOption = ReadFormat.TABLE,
) -> None:
    """Who had signed, declined or withdrawn from a declaration at a date."""
    from projections.catalogue import get_declaration

    on = parse_at(day(at))
    with one_shot() as runtime:
        try:
            known = parse_known_at(known_at)
        except DomainError as error:
            refused(error)
        with runtime.store.reading() as sql:
            found = get_declaration(sql, declaration_id)
            rows = signatories(sql, declaration_id, on, known) if found else []
    if found is None:
        refused(NotFound(f"unknown declaration {declaration_id!r}", field="declaration_id"))
    if output is ReadFormat.JSON:  # as GET /v1/declarations/{id}/signatories?at=…&known_at=…
        grouped: dict[str, list[dict[str, Any]]] = {str(k): [r for r in rows if r["stance"] == k] for k in ActKind}
        print_json(SignatoriesPublic.model_validate({"declaration_id": declaration_id, "at": on, "known_at": known,
                                                     **grouped}))
        return
    console.print(f"[bold]{found['title']}[/bold] on {on}, as recorded by {known}")
    for kind in ActKind:
        parties = [r["party"] for r in rows if r["stance"] == kind]
        console.print(f"[{style(kind)}]{kind}[/] ({len(parties)}): {' '.join(parties) or '—'}")


@app.command()
def rebuild(
    accept_broken_chain: Annotated[bool, typer.Option(
        "--accept-broken-chain", help="Rebuild even from a log whose hash chain is broken (its answers would then "
        "include whatever was altered or slipped in)")] = False,
) -> None:
    """Build fresh read models beside the live ones, then switch readers over at once (no downtime).

    The hash chain is verified first: a broken one is refused unless --accept-broken-chain."""
    with one_shot(catch_up=False) as runtime:
        _check_chain_before_rebuild(runtime, accept_broken_chain)
    with one_shot(catch_up=False) as runtime, Progress(
        TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("rebuild", total=runtime.projector.head())
        applied = runtime.projector.rebuild_beside(lambda done, total: bar.update(task, completed=done, total=total))
    console.print(f"rebuilt the read models from {applied} events and switched readers to them")


def _check_chain_before_rebuild(runtime: Runtime, accept: bool) -> None:
    from storage.chain import verify
    from storage.chain_guard import describe
    from storage.postgres import ChainedPostgresApplicationRecorder
    from storage.sqlite import ChainedSQLiteApplicationRecorder

    recorder = runtime.app.recorder
    if not isinstance(recorder, ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder):
        return
    with Progress(TextColumn("verifying the hash chain"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("verify", total=None)
        report = verify(recorder, progress=lambda done, stop: bar.update(task, completed=done, total=stop))
    first = report.first_break
    if first is None:
        console.print(f"chain OK: {report.linked} events linked")
        return
    if not accept:
        err.print(f"[red]{describe(first)}[/red]")
        err.print("refusing to rebuild the read models from a log that no longer matches what was written "
                      "(`diplo verify` lists every break; restore a backup, or rebuild anyway with "
                      "--accept-broken-chain)")
        raise typer.Exit(1)
    console.print(f"[yellow]{describe(first)}[/yellow]: rebuilding anyway (--accept-broken-chain)")


@app.command()
def project(
    metrics_port: Annotated[int | None, typer.Option(
        min=0, max=65535, help="Serve this process's /metrics on this port (pages, events, each read model's lag)"
    )] = None,
    metrics_host: Annotated[str, typer.Option(help="Interface for --metrics-port")] = "127.0.0.1",
    log_level: LogLevelOption = None,
) -> None:
    """Run the read models in this process (for DIPLO_PROJECTOR=external); exits non-zero if the store is lost."""
    import signal
    import threading

    from api import metrics, telemetry

    settings = Settings()
    logging_setup.configure(str(log_level or settings.log_level), settings.log_format)
    telemetry.start_if_requested()  # each page a span, when OTEL_* variables ask for traces
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        runtime = bootstrap(settings, start_projector=False, follow=True)
    except STORE_ERRORS as error:  # exits 1 as when the store is lost later; the supervisor retries
        fail(unreachable(settings, error), 1)
    metrics.watch_projector(runtime.projector)
    server = None
    try:
        if metrics_port is not None:
            tokens = metrics.allowed_tokens(settings.metrics_token_list, settings.read_token_list,
                                            runtime.write_tokens)
            server = metrics.serve_metrics(metrics.StoreCollector.of(runtime), metrics_host, metrics_port, tokens)
            console.print(f"metrics on http://{metrics_host}:{server.server_port}/metrics")
        console.print(f"projecting from position {runtime.projector.position()} (head {runtime.projector.head()})")
        runtime.projector.run_forever(stop)
    except Exception as error:  # a lost store: say so and let the supervisor restart us
        err.print(f"[red]projector stopped:[/red] {type(error).__name__}: {error}")
        raise typer.Exit(1) from None
    finally:
        if server is not None:
            server.shutdown()
        runtime.close()
    console.print("projector stopped")


@app.command()
def status(
    stalled_after: Annotated[float | None, typer.Option(
        "--stalled-after", min=1, help="Exit 1 when the read models have been behind the log for this many seconds "
        "without moving, as seen by this and earlier runs (a health check of `diplo project`)")] = None,
    progress_file: Annotated[Path | None, typer.Option(
        "--progress-file", help="Where runs keep what they saw, for --stalled-after (default: "
        "DIPLO_DATA_DIR/status-progress.json)")] = None,
    output: Annotated[ReadFormat, typer.Option("--format", help="table, or json: the store's part of GET /healthz "
                                               "(head, position, lag, each read model, the chain's head)")]
    = ReadFormat.TABLE,
) -> None:
    """Each read model's position against the head of the log, and the lag."""
    with one_shot(catch_up=False) as runtime:
        try:
            body = read_status(runtime)
        except Exception as error:
            fail(f"the store does not answer: {type(error).__name__}: {error}", 1)
        kept = progress_file or runtime.settings.data_dir / "status-progress.json"
    if output is ReadFormat.JSON:
        sys.stdout.write(json.dumps(body) + "\n")
    else:
        _print_status(body)
    if stalled_after is not None:
        seen, still_for = stall.judge(stall.load(kept), body["position"], body["lag"], time.time())
        stall.keep(kept, seen)
        if still_for >= stalled_after:
            fail(f"stalled: the read models have stayed at position {body['position']} for {still_for:.0f} s while "
                 f"the log is at {body['head']} (lag {body['lag']}); is `diplo project` running and reaching the "
                 "store?", 1)


def _print_status(body: dict[str, Any]) -> None:
    table = Table(title=f"head of the log: {body['head']}  (projector: {body['projector']})")
    for column in ("read model", "position", "lag"):
        table.add_column(column)
    for name, row in body["read_models"].items():
        style = "green" if row["lag"] == 0 else "yellow"
        table.add_row(name, str(row["position"]), f"[{style}]{row['lag']}[/]")
    console.print(table)


@app.command()
def follow(
    url: Annotated[str, typer.Option(help="The server's base URL")] = "http://127.0.0.1:8000",
    after: Annotated[int | None, typer.Option(help="Start after this log position (default: only new events)")] = None,
    party: Annotated[list[str] | None, typer.Option(help="Only events naming this party (repeatable)")] = None,
    declaration: Annotated[list[str] | None, typer.Option(help="Only events on this declaration (repeatable)")] = None,
    kind: Annotated[list[EventKind] | None, typer.Option(help="Only events of this kind (repeatable)")] = None,
    token: Annotated[str | None, typer.Option(envvar="DIPLO_TOKEN", help="Bearer token, if reads need one")] = None,
    limit: Annotated[int | None, typer.Option(help="Stop after this many events")] = None,
    output: Annotated[ReadFormat, typer.Option("--format", help="table: a line per event; json: each event as "
                                               "the stream sends it, one JSON object a line")] = ReadFormat.TABLE,
) -> None:
    """Print acts as they arrive from the server's event stream; resumes after a dropped connection."""
    from api.follow import follow_stream

    with suppress(KeyboardInterrupt):
        follow_stream(url, after=after, parties=party or [], declarations=declaration or [], kinds=kind or [],
                      token=token, limit=limit, console=console, notes=err, as_json=output is ReadFormat.JSON)

from api.cli_analysis import register as register_analysis  # noqa: E402, I001  (diplo replay, diplo diff)
register_analysis(app)
from api import cli_alignment  # noqa: E402  (diplo agreement, diplo vote-share, diplo closest)

cli_alignment.register(app)
from api import cli_verify  # noqa: E402  (diplo verify: the hash chain over the log)

cli_verify.register(app)

from api import cli_export  # noqa: E402  (commands kept in a module of their own: diplo export, diplo import)

cli_export.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

