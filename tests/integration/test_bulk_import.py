"""Bulk import of a command file (`diplo import commands.jsonl`), on SQLite and PostgreSQL.

What a sceptic checks:
- the same commands give the same record whether sent one by one through the service or imported
  whole: the same aggregates, versions, topics and event ids in the same log order, the same event
  data, and the same answers from the read models (only the recording instants differ);
- a later line is judged against the earlier lines of the same file (an act on a declaration the file
  publishes, a retraction of an act the file records), as if they had been stored;
- a refused line (bad field, broken stance rule, unknown declaration) is named, and nothing is stored;
- a writer that stores on the same aggregate while the file is decided makes the import fail whole;
- the import appends to a store that already holds a record, and the read models catch up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api import cli
from api.bootstrap import Runtime
from api.command_lines import MODELS, CommandLineError, read_commands
from domain.bulk import BulkImport, CommandRefused
from domain.commands import RecordAct
from domain.declaration import Declaration
from domain.errors import Conflict
from domain.releases import Release
from domain.values import ActKind, Confidence, Source, event_id_for
from projections.stance_history import signatories, stances_of
from seeds.loader import SEED_FILE, seed
from tests.factories import FIRST_RELEASE

SOURCE = {"title": "Report", "url": "https://example.org/r"}
NOW = "9999-12-31T00:00:00+00:00"


def seed_commands() -> list[dict[str, Any]]:
    """The seed record as a command file: every summit, declaration, act and statement, in the loader's order."""
    data = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    lines: list[dict[str, Any]] = []
    for key, command in (("summits", "host_summit"), ("declarations", "publish_declaration"),
                         ("acts", "record_act"), ("statements", "record_statement")):
        fields = set(MODELS[command].model_fields)
        for item in data[key]:
            lines.append({"command": command, **{k: v for k, v in item.items() if k in fields and v is not None}})
    return lines


def write_lines(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def log_of(runtime: Runtime) -> list[tuple[str, int, str, dict[str, Any]]]:
    """Every stored event in log order: aggregate, version, topic, and its data without the recording instant."""
    found = []
    for n in runtime.app.recorder.select_notifications(start=None, limit=1_000_000):
        state = json.loads(n.state)
        state.pop("timestamp", None)
        found.append((str(n.originator_id), n.originator_version, n.topic, state))
    return found


def answers(runtime: Runtime) -> dict[str, Any]:
    """What the read models say now, for every party and declaration of the seeds, recording instants left out."""
    runtime.projector.catch_up()
    data = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    parties = sorted({a["party"] for a in data["acts"]})
    found: dict[str, Any] = {}
    with runtime.store.reading() as sql:
        for day in ("2023-11-02", "2024-05-22", "2025-02-12", "2026-01-01"):
            for party in parties:
                found[f"{party}@{day}"] = stances_of(sql, party, day, NOW)
            for d in data["declarations"]:
                found[f"{d['id']}@{day}"] = signatories(sql, d["id"], day, NOW)
    return found


def run_file(runtime: Runtime, path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return BulkImport(runtime.app).run(read_commands(handle))


def test_a_bulk_import_stores_what_the_commands_one_by_one_store(runtime: Runtime, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "seeds.jsonl", seed_commands())
    result = run_file(runtime, path)
    bulk_log, bulk_answers = log_of(runtime), answers(runtime)

    # The same commands, one transaction each, into a second store of the same backend.
    from api.bootstrap import bootstrap
    from tests.integration.test_backup import store  # a fresh store of its own

    with store("postgres" if runtime.settings.uses_postgres else "sqlite", tmp_path / "one-by-one") as settings:
        other = bootstrap(settings, start_projector=False, follow=False)
        try:
            seed(other.app, through=FIRST_RELEASE)
            # The loader stores the same events, and then the release's own, which a command file has no line for.
            assert [e for e in log_of(other) if e[2] != Release.Loaded.TOPIC] == bulk_log
            assert answers(other) == bulk_answers
        finally:
            other.close()
    assert result.commands == len(seed_commands())
    assert result.events == len(bulk_log) == 2 * result.commands
    assert (result.first_position, result.last_position) == (1, runtime.app.recorder.max_notification_id())


def act(declaration: str, kind: str, party: str, day: str, **extra: Any) -> dict[str, Any]:
    return {"command": "record_act", "declaration_id": declaration, "kind": kind, "party": party,
            "occurred_on": day, "confidence": "high", "sources": [SOURCE], **extra}


def publish(slug: str, day: str) -> dict[str, Any]:
    return {"command": "publish_declaration", "id": slug, "title": slug.title(), "published_on": day,
            "confidence": "high", "sources": [SOURCE]}


def test_later_lines_are_judged_against_earlier_lines_of_the_same_file(runtime: Runtime, tmp_path: Path) -> None:
    d_id = Declaration.id_for("accord")
    lines = [
        publish("accord", "2020-01-01"),
        act("accord", "signed", "FR", "2020-02-01"),  # version 2
        act("accord", "withdrawn", "FR", "2021-02-01"),  # version 3: legal only after the signature above
        act("accord", "declined", "DE", "2020-03-01"),  # version 4
        # a backfill: FR had declined before signing; legal where it falls in valid time
        act("accord", "declined", "FR", "2020-01-15"),  # version 5
        {"command": "retract", "event_id": str(event_id_for(d_id, 4)), "reason": "misreported",
         "sources": [SOURCE]},
    ]
    result = run_file(runtime, write_lines(tmp_path / "c.jsonl", lines))
    assert result.kinds == {"published": 1, "signed": 1, "withdrawn": 1, "declined": 2, "retracted": 1}
    runtime.projector.catch_up()
    with runtime.store.reading() as sql:
        assert [(r["party"], r["stance"]) for r in signatories(sql, "accord", "2020-06-01", NOW)] == [("FR", "signed")]
        assert [r["stance"] for r in stances_of(sql, "FR", "2020-01-20", NOW)] == ["declined"]
        assert stances_of(sql, "DE", "2020-06-01", NOW) == []  # retracted
        assert [r["stance"] for r in stances_of(sql, "FR", "2022-01-01", NOW)] == ["withdrawn"]


REFUSALS = [
    # (the offending line, what the message names)
    (act("accord", "withdrawn", "FR", "2020-02-01"), ("2", "withdraw")),  # stance rule: nothing to withdraw from
    (act("nowhere", "signed", "FR", "2020-02-01"), ("2", "declaration_id")),
    (act("accord", "signed", "XX", "2020-02-01"), ("2", "party")),
    (act("accord", "signed", "FR", "2019-02-01"), ("2", "published on")),  # before publication
]


@pytest.mark.parametrize(("bad", "named"), REFUSALS, ids=["stance-rule", "unknown-declaration", "party", "early"])
def test_a_refused_command_is_named_and_nothing_is_stored(
    runtime: Runtime, tmp_path: Path, bad: dict[str, Any], named: tuple[str, str]
) -> None:
    seed(runtime.app)
    before = runtime.app.recorder.max_notification_id()
    lines = [publish("accord", "2020-01-01"), bad, act("accord", "declined", "DE", "2020-03-01")]
    with pytest.raises(CommandRefused) as refused:
        run_file(runtime, write_lines(tmp_path / "c.jsonl", lines))
    assert refused.value.number == int(named[0])
    assert named[1] in str(refused.value).lower()
    assert runtime.app.recorder.max_notification_id() == before


@pytest.mark.parametrize(("line", "named"), [
    ({"command": "record_act", "kind": "signed", "party": "FR", "occurred_on": "2020-02-01", "confidence": "high",
      "sources": [SOURCE]}, "declaration_id"),
    (act("accord", "ratified", "FR", "2020-02-01"), "kind"),
    (act("accord", "signed", "FR", "2020-02-31"), "occurred_on"),
    (act("accord", "signed", "FR", "2020-02-01", sources=[]), "sources"),
    (act("accord", "signed", "FR", "2020-02-01", reason="nul \u0000 here"), "nul"),
    ({"command": "sign_everything"}, "command"),
    (act("accord", "signed", "FR", "2020-02-01", colour="red"), "colour"),
])
def test_a_line_that_is_not_a_command_is_named_by_line_and_field(line: dict[str, Any], named: str) -> None:
    text = [json.dumps(publish("accord", "2020-01-01")), "", json.dumps(line)]
    with pytest.raises(CommandLineError) as error:
        list(read_commands(text))
    assert "line 3" in str(error.value)
    assert named in str(error.value).lower()


def test_a_writer_on_the_same_declaration_meanwhile_makes_the_import_fail_whole(runtime: Runtime) -> None:
    seed(runtime.app)
    before = runtime.app.recorder.max_notification_id()

    def commands() -> Iterator[tuple[int, Any]]:
        yield from read_commands([json.dumps(act("paris-statement", "signed", "AQ", "2025-03-01"))])
        # After the file is decided, before it is stored: another writer records on the same declaration.
        runtime.app.handle(RecordAct(declaration_id="paris-statement", kind=ActKind.SIGNED, party="BV",
                               occurred_on=date(2025, 3, 2), sources=[Source("R", "https://example.org/x")],
                               confidence=Confidence.HIGH))

    with pytest.raises(Conflict, match="nothing was stored"):
        BulkImport(runtime.app).run(commands())
    assert runtime.app.recorder.max_notification_id() == before + 2  # the other writer's act and its index only


def test_diplo_import_of_a_command_file_appends_to_a_seeded_store(
    seeded: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = seeded.settings
    before = seeded.app.recorder.max_notification_id()
    path = write_lines(tmp_path / "more.jsonl", [
        publish("accord", "2020-01-01"),
        act("accord", "signed", "FR", "2020-02-01"),
        act("paris-statement", "signed", "AQ", "2025-03-01"),
    ])
    env = {"DIPLO_DATA_DIR": str(settings.data_dir), "DIPLO_DATABASE_SCHEMA": settings.database_schema}
    if settings.database_url:
        env["DIPLO_DATABASE_URL"] = settings.database_url
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    outcome = CliRunner().invoke(cli.app, ["import", str(path)])
    assert outcome.exit_code == 0, outcome.output
    assert "imported 3 commands" in outcome.output
    assert seeded.app.recorder.max_notification_id() == before + 6
    seeded.projector.catch_up()
    with seeded.store.reading() as sql:
        found = {r["party"] for r in signatories(sql, "paris-statement", "2025-04-01", NOW)}
    assert "AQ" in found

    refused = write_lines(tmp_path / "bad.jsonl", [act("accord", "withdrawn", "DE", "2020-02-01")])
    outcome = CliRunner().invoke(cli.app, ["import", str(refused)])
    assert outcome.exit_code == 2
    assert "line 1" in outcome.output and "nothing was stored" in outcome.output
    assert seeded.app.recorder.max_notification_id() == before + 6
