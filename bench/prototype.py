"""PROTOTYPES of the fixes proposed in docs/benchmarks.md, measured beside the engine as it is.

None of this is the engine's behaviour; each shows what a proposed change would buy, on the same
commands, in the same run, against the same floor:

- import with eventsourcing's aggregate cache (AGGREGATE_CACHE_MAXSIZE): no refold of the declaration per act;
- batch import: the same domain methods (the stance rules included) on aggregates held in memory, saved
  500 commands per transaction, as a `diplo import` could do.

    python -m bench.prototype --size 10k [--backends sqlite postgres]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from api.bootstrap import bootstrap
from bench.commands import replay
from bench.generate import DEFAULT_SEED, Generator, parse_size, size_label
from bench.machine import describe, load_average
from bench.paths import import_floor
from bench.run import DEFAULT_PG, RESULTS
from bench.stats import timed
from bench.stores import BACKENDS, Workspace, workspace
from domain.declaration import Declaration
from domain.ledger import EventIndex
from domain.service import DiplomaticRecord
from domain.statement import Statement
from domain.summit import Summit
from domain.values import ActKind, Precision, check_sources


class BatchImporter:
    """PROTOTYPE: decides each command with the domain's own methods on aggregates kept in memory,
    and saves every `page` commands in one transaction (one `Application.save` of many aggregates)."""

    def __init__(self, app: DiplomaticRecord, page: int = 500) -> None:
        self.app = app
        self.page = page
        self.declarations: dict[str, Declaration] = {}
        self.targets: dict[UUID, Aggregate] = {}  # event id -> the aggregate that holds it
        self.pending: dict[UUID, Aggregate] = {}

    def _declaration(self, slug: str) -> Declaration:
        found = self.declarations.get(slug)
        if found is None:
            found = self.declarations[slug] = self.app.repository.get(Declaration.id_for(slug))
        return found

    def _keep(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            self.pending[aggregate.id] = aggregate

    def apply(self, c: dict[str, Any]) -> None:
        today = self.app.today()
        sources = check_sources([_source(s) for s in c["sources"]])
        match c["command"]:
            case "host_summit":
                hosts = [self.app.parties.require(h) for h in c["hosts"]]
                summit = Summit.host(slug=c["id"], name=c["name"], hosts=hosts,
                                     city=c["city"], starts_on=date.fromisoformat(c["starts_on"]),
                                     ends_on=date.fromisoformat(c["ends_on"]), notes=None, sources=sources,
                                     confidence=c["confidence"], today=today)
                self._keep(summit, EventIndex.index(event_id=summit.pending_events[0].event_id,  # type: ignore[attr-defined]
                                                    target=summit.id, kind="hosted"))
            case "publish_declaration":
                d = Declaration.publish(slug=c["id"], title=c["title"], summit_id=c.get("summit_id"),
                                        published_on=date.fromisoformat(c["published_on"]), notes=None,
                                        sources=sources, confidence=c["confidence"], today=today)
                self.declarations[c["id"]] = d
                self._keep(d, EventIndex.index(event_id=d.pending_events[0].event_id,  # type: ignore[attr-defined]
                                               target=d.id, kind="published"))
            case "record_act":
                d = self._declaration(c["declaration_id"])
                event_id = d.record_act(kind=ActKind(c["kind"]), party=self.app.parties.require(c["party"]),
                                        occurred_on=date.fromisoformat(c["occurred_on"]),
                                        precision=str(Precision(c.get("precision", "day"))), reason=c.get("reason"),
                                        note=None, sources=sources, confidence=c["confidence"], today=today)
                self.targets[event_id] = d
                self._keep(d, EventIndex.index(event_id=event_id, target=d.id, kind=c["kind"]))
            case "record_statement":
                s = Statement.issue(party=self.app.parties.require(c["party"]), speaker=c.get("speaker"),
                                    occurred_on=date.fromisoformat(c["occurred_on"]), precision="day", text=c["text"],
                                    about=c.get("about"), position=c.get("position"), note=None, sources=sources,
                                    confidence=c["confidence"], today=today)
                self.targets[s.issued_event_id] = s
                self._keep(s, EventIndex.index(event_id=s.issued_event_id, target=s.id, kind="statement"))
            case "retract":
                target_id = UUID(c["event_id"])
                target = self.targets.get(target_id)
                if target is None:
                    index: EventIndex = self.app.repository.get(EventIndex.id_for(target_id))
                    target = self.app.repository.get(index.target_id)
                retraction = target.retract(target_event_id=target_id, reason=c["reason"], sources=sources)  # type: ignore[attr-defined]
                self._keep(target, EventIndex.index(event_id=retraction, target=target.id, kind="retracted"))

    def run(self, commands: list[dict[str, Any]]) -> None:
        for n, command in enumerate(commands, 1):
            self.apply(command)
            if n % self.page == 0:
                self.flush()
        self.flush()

    def flush(self) -> None:
        if self.pending:
            self.app.save(*self.pending.values())
            self.pending.clear()


def _source(data: dict[str, Any]) -> Any:
    from domain.values import Source

    return Source.from_dict(data)


def _count(ws: Workspace) -> int:
    conn = ws.raw_connection()
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {ws.events_table()}").fetchone()[0])
    finally:
        conn.close()


def measure(backend: str, commands: list[dict[str, Any]], root: Path, url: str) -> dict[str, Any]:
    found: dict[str, Any] = {"backend": backend}
    for variant in ("as_is", "aggregate_cache", "batch_500"):
        with workspace(backend, root, url) as ws:
            rt = bootstrap(ws.settings, start_projector=False, follow=False)
            app = rt.app
            if variant == "aggregate_cache":
                app = DiplomaticRecord({**ws.settings.eventsourcing_env(), "AGGREGATE_CACHE_MAXSIZE": "5000",
                                        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n"}, parties=rt.parties)
            print(f"  {backend} {variant} (load {load_average()}) ...", file=sys.stderr, flush=True)
            load = load_average()
            with timed() as watch:
                if variant == "batch_500":
                    BatchImporter(app).run(commands)
                else:
                    replay(app, commands)
            events = _count(ws)
            floor = import_floor(ws)
            found[variant] = {"events": events, "seconds": round(watch.seconds, 3),
                              "events_per_s": round(events / watch.seconds, 1),
                              "floor_rows_per_s": floor["floor_rows_per_s"],
                              "ratio": round(events / watch.seconds / floor["floor_rows_per_s"], 4),
                              "load_average_before": load}
            if app is not rt.app:
                app.close()
            rt.close()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="10k")
    parser.add_argument("--backends", nargs="*", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--workdir", type=Path, default=Path("var/bench"))
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    commands = list(Generator(size, DEFAULT_SEED))
    document: dict[str, Any] = {"kind": "PROTOTYPES, not the engine", "size": size,
                                "machine": describe(args.postgres_url), "import": []}
    for backend in args.backends:
        document["import"].append(measure(backend, commands, args.workdir.resolve(), args.postgres_url))
    out = RESULTS / f"prototype-{size_label(size)}.json"
    out.write_text(json.dumps(document, indent=1) + "\n")
    print(json.dumps(document["import"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
