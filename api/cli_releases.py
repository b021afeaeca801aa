"""`diplo import <release folder or .RData>`: a data set release loaded as a knowledge time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from api.bootstrap import Runtime
from api.terminal import err
from domain.bulk import CommandRefused
from domain.errors import DomainError
from domain.releases import LoadRelease, Release
from seeds.unga import ReleaseUnreadable, read_release, release_identity


def is_release(path: Path) -> bool:
    """A folder (an unvotes release) or an R data file (Voeten's), rather than a command file or a backup."""
    return path.is_dir() or path.suffix.lower() in (".rdata", ".rda")


class Steps:
    """A progress bar over the phases of several releases (each is read, decided and stored, then projected): the
    whole General Assembly record takes most of a minute on a small machine, and a bar shows where it is."""

    PHASES = 3

    def __init__(self, progress: Progress, releases: int) -> None:
        self.progress = progress
        self.task: TaskID = progress.add_task("", total=releases * self.PHASES)

    @classmethod
    @contextmanager
    def shown(cls, console: Console, releases: int) -> Iterator[Steps]:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            yield cls(progress, releases)

    @contextmanager
    def doing(self, description: str) -> Iterator[None]:
        self.progress.update(self.task, description=description)
        yield
        self.progress.advance(self.task)

    def skip(self, phases: int) -> None:
        self.progress.advance(self.task, phases)


def load_release(runtime: Runtime, path: Path, release: str | None, console: Console,
                 steps: Steps | None = None) -> dict[str, int]:
    """Reads the release, records what it changed in one transaction (or nothing), and catches the read models up;
    `steps` shows the phases on a progress bar (a spinner otherwise)."""
    started = time.perf_counter()

    def phase(description: str) -> AbstractContextManager[object]:
        return steps.doing(description) if steps is not None else console.status(description)

    try:
        dataset, name = release_identity(path, release)
    except ReleaseUnreadable as error:
        err.print(f"[red]refused:[/red] {error}; nothing was stored")
        raise typer.Exit(2) from None
    if runtime.app.exists(Release.id_for(dataset, name)):
        console.print(f"release {name} of {dataset} was loaded before: nothing stored")
        if steps is not None:
            steps.skip(Steps.PHASES)
        return {}
    with phase(f"reading {path.name}"):
        try:
            facts = read_release(path, runtime.parties, release=release)
        except ReleaseUnreadable as error:
            err.print(f"[red]refused:[/red] {error}; nothing was stored")
            raise typer.Exit(2) from None
    votes = sum(len(rc.votes) for rc in facts.rollcalls)
    console.print(f"read release {facts.name} of {facts.dataset}: {len(facts.rollcalls):,} roll calls, "
                  f"{votes:,} votes from {facts.rows:,} rows"
                  + "".join(f"; {n:,} {what}" for what, n in facts.unrecorded.items()))
    with phase(f"{facts.name}: deciding what changed and storing it"):
        try:
            result = runtime.app.handle_all([(1, LoadRelease(facts))])
        except CommandRefused as error:
            err.print(f"[red]refused:[/red] {error.error.message} ({error.error.field}); nothing was stored")
            raise typer.Exit(2) from None
        except DomainError as error:
            err.print(f"[red]refused:[/red] {error.message}; nothing was stored")
            raise typer.Exit(2) from None
    if not result.events:
        console.print(f"release {facts.name} of {facts.dataset} was loaded before: nothing stored")
        if steps is not None:
            steps.skip(1)
        return {}
    with phase(f"{facts.name}: bringing the read models up to date"):
        runtime.projector.catch_up()
    with runtime.store.reading() as sql:
        row = sql.one("SELECT counts FROM releases WHERE dataset = ? AND name = ?", (facts.dataset, facts.name))
    import json

    counts: dict[str, int] = json.loads(row["counts"]) if row else {}
    console.print(
        f"stored {result.events:,} events (positions {result.first_position}-{result.last_position}) in "
        f"{time.perf_counter() - started:.1f} s: {counts.get('rollcalls_added', 0):,} roll calls and "
        f"{counts.get('votes_added', 0):,} votes added, {counts.get('votes_retracted', 0):,} votes retracted, "
        f"{counts.get('votes_corrected', 0):,} corrected, {counts.get('details_corrected', 0):,} roll calls' "
        f"details corrected"
        + (f", {counts['disagreements']:,} votes of other sources left as they are" if counts.get("disagreements")
           else "")
    )
    return counts
