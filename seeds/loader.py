"""Loads the AI-summit record, release by release, through the application service's command bus, so seeding
makes real events and every release is a knowledge time.

The record is a series of releases (seeds/data/ai-summits/<date>.json), each a whole snapshot. The first is
loaded as it is: what the record already holds (a summit or declaration id, the same act by the same party on the
same day, the same statement) is skipped, so a store seeded before releases existed only gains the release's own
event. Each later release records what changed since the one before it: acts and statements no longer there are
retracted, changed ones retracted and recorded again, new ones recorded, each with the reason and the sources its
`changes` entry gives (a difference without one refuses the release). Each release goes in one transaction and
ends with its `Release.Loaded` event; a release loaded before is skipped, so a second run stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from domain.commands import Command, HostSummit, PublishDeclaration, RecordAct, RecordStatement
from domain.releases import CloseRelease, Release, RetractAct, RetractStatement
from domain.service import DiplomaticRecord
from domain.values import ActKind, Confidence, Position, Precision, Source

DATASET = "ai-summits"
RELEASES = Path(__file__).parent / "data" / "ai-summits"
# Release 1 of the AI-summit record, which every store seeded before releases existed was seeded from.
SEED_FILE = RELEASES / "2026-11-25.json"

ActKey = tuple[str, str, str, str, str]  # declaration, party, kind, occurred_on, precision
StatementKey = tuple[str, str, str | None, str]  # party, occurred_on, speaker, text


class ReleaseUnexplained(Exception):
    """A release differs from the one before it where its `changes` give no reason: it is not loaded."""


@dataclass
class SeedReport:
    stored: dict[str, int] = field(
        default_factory=lambda: {"summits": 0, "declarations": 0, "acts": 0, "statements": 0, "retractions": 0}
    )
    skipped: int = 0
    last_position: int = 0
    releases: list[str] = field(default_factory=list)  # the releases this run loaded

    @property
    def total_stored(self) -> int:
        return sum(self.stored.values())


def releases(folder: Path = RELEASES) -> list[Path]:
    """The releases in the order they were made (their files are named by date)."""
    return sorted(folder.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].json"))


def release_name(path: Path, data: dict[str, Any]) -> str:
    named: str = (data.get("release") or {}).get("name") or f"{DATASET}-{path.stem}"
    return named


def _sources(items: Iterable[dict[str, Any]]) -> list[Source]:
    return [Source.from_dict(s) for s in items]


def _day(text: str) -> date:
    return date.fromisoformat(text)


def act_key(a: dict[str, Any]) -> ActKey:
    return (a["declaration_id"], a["party"], a["kind"], a["occurred_on"], a.get("precision") or Precision.DAY.value)


def statement_key(s: dict[str, Any]) -> StatementKey:
    return (s["party"], s["occurred_on"], s.get("speaker"), s["text"])


def seed(app: DiplomaticRecord, folder: Path = RELEASES, progress: Callable[[int, int], None] | None = None, *,
         through: str | None = None) -> SeedReport:
    """Loads every release not loaded before, in order; with `through`, only up to that release (its name, or its
    date) — the record as it stood then."""
    report = SeedReport()
    paths = releases(folder)
    if through is not None:
        names = [p.stem for p in paths]
        wanted = through.removeprefix(f"{DATASET}-")
        if wanted not in names:
            raise ValueError(f"no release {through!r} of the AI-summit record; its releases: "
                             f"{', '.join(f'{DATASET}-{n}' for n in names)}")
        paths = paths[:names.index(wanted) + 1]
    previous: dict[str, Any] | None = None
    for number, path in enumerate(paths, start=1):
        data = json.loads(path.read_text(encoding="utf-8"))
        name = release_name(path, data)
        if app.exists(Release.id_for(DATASET, name)):
            report.skipped += 1
        else:
            commands, kinds = (_first(app, data, report) if previous is None else _changes(previous, data))
            published = (data.get("release") or {}).get("date") or path.stem
            corrected = kinds.pop("corrected", 0)
            counts = {kind: n for kind, n in kinds.items() if n}
            # What every release reports (GET /v1/releases): acts and statements recorded, retracted, and
            # retracted to be recorded again with what changed.
            counts |= {"added": kinds["acts"] + kinds["statements"] - corrected,
                       "retracted": kinds.get("retractions", 0) - corrected, "corrected": corrected}
            commands.append(CloseRelease(dataset=DATASET, name=name, published_on=_day(published), counts=counts,
                                         sources=release_sources(data)))
            result = app.handle_all(enumerate(commands, start=1))
            for kind, n in kinds.items():
                if kind in report.stored:
                    report.stored[kind] += n
            report.last_position = max(report.last_position, result.last_position or 0)
            report.releases.append(name)
        previous = data
        if progress is not None:
            progress(number, len(paths))
    return report


def release_sources(data: dict[str, Any]) -> list[Source]:
    """What a release rests on, each once: the sources its changes cite, or, for a first release, every source its
    items cite (a release has no source of its own beyond them)."""
    items = data.get("changes") or [*data["summits"], *data["declarations"], *data["acts"], *data["statements"]]
    unique = {s["url"]: s for item in items for s in item["sources"]}
    return _sources(unique[url] for url in sorted(unique))


def _first(app: DiplomaticRecord, data: dict[str, Any], report: SeedReport) -> tuple[list[Command], dict[str, int]]:
    """The first release's commands: everything it holds that the record does not hold yet."""
    commands: list[Command] = []
    kinds = {"summits": 0, "declarations": 0, "acts": 0, "statements": 0}
    for s in data["summits"]:
        if app.summit_exists(s["id"]):
            report.skipped += 1
            continue
        commands.append(_summit(s))
        kinds["summits"] += 1
    for d in data["declarations"]:
        if app.declaration_exists(d["id"]):
            report.skipped += 1
            continue
        commands.append(_declaration(d))
        kinds["declarations"] += 1
    held: dict[str, Any] = {}
    for a in data["acts"]:
        declaration = a["declaration_id"]
        if app.declaration_exists(declaration):
            found = held.setdefault(declaration, app.declaration(declaration))
            if found.has_act(a["party"], ActKind(a["kind"]), _day(a["occurred_on"])):
                report.skipped += 1
                continue
        commands.append(_act(a))
        kinds["acts"] += 1
    for st in data["statements"]:
        if app.statement_exists(st["party"], _day(st["occurred_on"]), st.get("speaker"), st["text"],
                                st.get("precision") or Precision.DAY.value):
            report.skipped += 1
            continue
        commands.append(_statement(st))
        kinds["statements"] += 1
    return commands, kinds


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[Command], dict[str, int]]:
    """A later release's commands: what changed since the release before it, each explained by its `changes`."""
    why = {_change_key(c): c for c in after.get("changes", [])}

    def reason(key: tuple[Any, ...], what: str) -> tuple[str, list[Source]]:
        entry = why.get(key)
        if entry is None:
            raise ReleaseUnexplained(f"release {release_name(Path('x'), after)}: the {what} {key} differs from the "
                                     "release before it, and its `changes` give no reason")
        return entry["reason"], _sources(entry["sources"])

    kinds = {"summits": 0, "declarations": 0, "acts": 0, "statements": 0, "retractions": 0, "corrected": 0}
    retractions: list[tuple[str, Command]] = []
    records: list[tuple[str, Command]] = []
    known_summits = {s["id"] for s in before["summits"]}
    known_declarations = {d["id"] for d in before["declarations"]}
    leading: list[Command] = [_summit(s) for s in after["summits"] if s["id"] not in known_summits]
    leading += [_declaration(d) for d in after["declarations"] if d["id"] not in known_declarations]
    kinds["summits"] = sum(1 for s in after["summits"] if s["id"] not in known_summits)
    kinds["declarations"] = sum(1 for d in after["declarations"] if d["id"] not in known_declarations)

    was = {act_key(a): a for a in before["acts"]}
    now = {act_key(a): a for a in after["acts"]}
    # In the releases' own order, never a set's: the commands' order gives the events their positions and ids, which
    # must be the same in every store seeded from the same files (a set's order changes with each process's hash seed).
    for key in dict.fromkeys([*was, *now]):
        old, new = was.get(key), now.get(key)
        if old == new:
            continue
        text, sources = reason(key, "act")
        if old is not None:
            declaration, party, kind, occurred_on, precision = key
            retractions.append((occurred_on, RetractAct(declaration_id=declaration, party=party, kind=kind,
                                                        occurred_on=_day(occurred_on), precision=precision,
                                                        reason=text, sources=sources)))
            kinds["retractions"] += 1
        if new is not None:
            records.append((new["occurred_on"], _act(new)))
            kinds["acts"] += 1
        kinds["corrected"] += old is not None and new is not None

    was_said = {statement_key(s): s for s in before["statements"]}
    now_said = {statement_key(s): s for s in after["statements"]}
    for skey in dict.fromkeys([*was_said, *now_said]):
        old_s, new_s = was_said.get(skey), now_said.get(skey)
        if old_s == new_s:
            continue
        text, sources = reason(skey, "statement")
        if old_s is not None:
            party, occurred_on, speaker, said = skey
            retractions.append((occurred_on, RetractStatement(party=party, occurred_on=_day(occurred_on),
                                                              speaker=speaker, text=said, reason=text,
                                                              sources=sources,
                                                              precision=old_s.get("precision") or "day")))
            kinds["retractions"] += 1
        if new_s is not None:
            records.append((new_s["occurred_on"], _statement(new_s)))
            kinds["statements"] += 1
        kinds["corrected"] += old_s is not None and new_s is not None
    # Later acts are retracted first (an earlier one cannot go while a later act rests on it), then the right acts
    # recorded in valid-time order.
    ordered = [c for _, c in sorted(retractions, key=lambda p: p[0], reverse=True)]
    ordered += [c for _, c in sorted(records, key=lambda p: p[0])]
    return [*leading, *ordered], kinds


def _change_key(change: dict[str, Any]) -> tuple[Any, ...]:
    if "declaration_id" in change:
        return act_key(change)
    return (change["party"], change["occurred_on"], change.get("speaker"), change["text"])


def _summit(s: dict[str, Any]) -> HostSummit:
    return HostSummit(id=s["id"], name=s["name"], hosts=s["hosts"], city=s["city"], starts_on=_day(s["starts_on"]),
                      ends_on=_day(s["ends_on"]), sources=_sources(s["sources"]),
                      confidence=Confidence(s["confidence"]), notes=s.get("notes"))


def _declaration(d: dict[str, Any]) -> PublishDeclaration:
    return PublishDeclaration(id=d["id"], title=d["title"], summit_id=d.get("summit_id"),
                              published_on=_day(d["published_on"]), sources=_sources(d["sources"]),
                              confidence=Confidence(d["confidence"]), notes=d.get("notes"))


def _act(a: dict[str, Any]) -> RecordAct:
    return RecordAct(declaration_id=a["declaration_id"], kind=ActKind(a["kind"]), party=a["party"],
                     occurred_on=_day(a["occurred_on"]), precision=Precision(a.get("precision") or Precision.DAY),
                     reason=a.get("reason"), note=a.get("note"), sources=_sources(a["sources"]),
                     confidence=Confidence(a["confidence"]))


def _statement(st: dict[str, Any]) -> RecordStatement:
    return RecordStatement(party=st["party"], speaker=st.get("speaker"), occurred_on=_day(st["occurred_on"]),
                           text=st["text"], about=st.get("about"),
                           position=Position(st["position"]) if st.get("position") else None, note=st.get("note"),
                           sources=_sources(st["sources"]), confidence=Confidence(st["confidence"]))
