"""The seeds, replayed through the application service and projected, on both backends: seeding is idempotent,
and the read models answer the founding questions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from api.bootstrap import Runtime
from projections.readmodel import timestamp
from projections.stance_history import signatories, stances_of
from projections.timeline import party_history
from seeds.loader import SEED_FILE, seed
from tests.factories import FIRST_RELEASE


def now() -> str:
    return timestamp(datetime.now(UTC))


def stance(runtime: Runtime, party: str, declaration_id: str, at: str) -> tuple[str, str] | None:
    with runtime.store.reading() as sql:
        rows = [r for r in stances_of(sql, party, at, now()) if r["declaration_id"] == declaration_id]
    assert len(rows) <= 1
    return (rows[0]["stance"], rows[0]["since"]) if rows else None


def signed(runtime: Runtime, declaration_id: str, at: str) -> dict[str, str]:
    with runtime.store.reading() as sql:
        return {r["party"]: r["since"] for r in signatories(sql, declaration_id, at, now()) if r["stance"] == "signed"}


def history(runtime: Runtime, party: str) -> list[dict[str, Any]]:
    with runtime.store.reading() as sql:
        return party_history(sql, party, known_at=now())


def test_seeding_a_second_time_stores_nothing(seeded: Runtime) -> None:
    head = seeded.projector.head()

    again = seed(seeded.app, through=FIRST_RELEASE)

    assert again.total_stored == 0 and again.releases == [] and again.skipped == 1
    assert seeded.projector.head() == head


def test_a_later_release_records_only_what_changed_and_a_third_run_stores_nothing(seeded: Runtime) -> None:
    data = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    assert seeded.projector.head() > len(data["acts"])  # the first release is in
    later = seed(seeded.app)
    assert later.releases == ["ai-summits-2026-12-07"]
    assert 0 < later.stored["retractions"] < len(data["acts"])
    head = seeded.projector.head()
    assert seed(seeded.app).total_stored == 0 and seeded.projector.head() == head


def test_the_us_has_declined_the_paris_statement_since_2025_02_11(seeded: Runtime) -> None:
    assert stance(seeded, "US", "paris-statement", "2025-02-12") == ("declined", "2025-02-11")


def test_the_uk_had_no_stance_on_the_paris_statement_on_2025_02_10(seeded: Runtime) -> None:
    assert stance(seeded, "GB", "paris-statement", "2025-02-10") is None
    assert stance(seeded, "GB", "paris-statement", "2025-02-11") == ("declined", "2025-02-11")


def test_new_zealand_is_a_bletchley_signatory_at_the_end_of_2024_and_not_on_1_october_2024(seeded: Runtime) -> None:
    assert signed(seeded, "bletchley-declaration", "2024-12-31")["NZ"] == "2024-10-23"
    assert "NZ" not in signed(seeded, "bletchley-declaration", "2024-10-01")


@pytest.mark.parametrize("party", ["CA", "JP"])
def test_canada_and_japan_signed_the_council_of_europe_convention_on_2025_02_11(seeded: Runtime, party: str) -> None:
    assert signed(seeded, "coe-framework-convention-ai", "2025-02-11")[party] == "2025-02-11"
    assert party not in signed(seeded, "coe-framework-convention-ai", "2025-02-10")


def test_the_uk_decline_of_the_paris_statement_carries_the_uk_stated_reason(seeded: Runtime) -> None:
    data = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    (reason,) = [a["reason"] for a in data["acts"]
                 if (a["party"], a["declaration_id"], a["kind"]) == ("GB", "paris-statement", "declined")]
    assert "national interest" in reason

    (declined,) = [e for e in history(seeded, "GB")
                   if e["kind"] == "declined" and e["declaration_id"] == "paris-statement"]

    assert declined["reason"] == reason
    assert (declined["occurred_on"], declined["stance"], declined["retracted"]) == ("2025-02-11", "declined", False)
    assert declined["sources"]


@pytest.mark.parametrize(
    ("party", "speaker"), [("US", "Vance"), ("FULL_FACT", "Dudfield"), ("FR", "Macron")]
)
def test_statements_on_the_paris_statement_are_in_their_parties_history(
    seeded: Runtime, party: str, speaker: str
) -> None:
    said = [e for e in history(seeded, party) if e["kind"] == "statement" and speaker in (e["speaker"] or "")]

    assert said
    for entry in said:
        assert (entry["occurred_on"], entry["declaration_id"], entry["retracted"]) == (
            "2025-02-11", "paris-statement", False
        )
        assert entry["text"]
        assert entry["sources"]
        assert "stance" not in entry  # a statement never sets a formal stance
