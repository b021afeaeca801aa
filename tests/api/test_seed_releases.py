"""The AI-summit record as a series of releases (issue 19): the second corrects the first without erasing it. The
history shows Montenegro's 2025-02-11 signature of the Council of Europe's AI convention retracted and its
2024-11-05 signature beside it; as the record stood after the first release, the old answer is still given."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import Runtime
from seeds.loader import RELEASES, ReleaseUnexplained, seed
from tests.conftest import stored_events

CONVENTION = "coe-framework-convention-ai"


@pytest.fixture
def both(runtime: Runtime, client: TestClient) -> TestClient:
    report = seed(runtime.app)
    assert report.releases == ["ai-summits-2026-11-25", "ai-summits-2026-12-07"]
    assert runtime.projector.wait_for(runtime.projector.head(), 30)
    return client


def releases(client: TestClient) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in client.get("/v1/releases").json()["releases"] if r["dataset"] == "ai-summits"}


def test_both_releases_are_listed_as_knowledge_times(both: TestClient) -> None:
    listed = releases(both)
    first, second = listed["ai-summits-2026-11-25"], listed["ai-summits-2026-12-07"]
    assert first["published_on"] == "2026-11-25" and second["published_on"] == "2026-12-07"
    assert first["first_position"] == 1 and first["last_position"] < second["first_position"]
    assert second["counts"]["retractions"] > 0 and second["sources"]
    # What each recorded, retracted, and retracted to record again: acts and statements.
    assert (first["added"], first["retracted"], first["corrected"]) == (186 + 12, 0, 0)
    counts = second["counts"]
    assert second["corrected"] > 0
    assert second["added"] + second["corrected"] == counts["acts"] + counts["statements"]
    assert second["retracted"] + second["corrected"] == counts["retractions"]


def test_montenegros_signature_is_corrected_and_the_first_answer_stays_reachable(both: TestClient) -> None:
    entries = [e for e in both.get("/v1/parties/ME/history", params={"kind": "signed"}).json()["entries"]
               if e["declaration_id"] == CONVENTION]
    by_day = {e["occurred_on"]: e for e in entries}
    assert by_day["2025-02-11"]["retracted"] and by_day["2025-02-11"]["retraction"]["reason"]
    assert not by_day["2024-11-05"]["retracted"]
    now = both.get("/v1/parties/ME/stances", params={"declaration": CONVENTION, "at": "2025-01-01"}).json()
    assert now["stances"][0]["stance"] == "signed" and now["stances"][0]["since"] == "2024-11-05"
    first = releases(both)["ai-summits-2026-11-25"]["loaded_at"]
    then = both.get("/v1/parties/ME/stances",
                    params={"declaration": CONVENTION, "at": "2025-03-01", "known_at": first}).json()
    assert then["stances"][0]["stance"] == "signed" and then["stances"][0]["since"] == "2025-02-11"


def test_later_signatories_of_the_convention_come_with_the_second_release(both: TestClient) -> None:
    at = {"at": "2026-02-01"}
    now = {s["party"] for s in both.get(f"/v1/declarations/{CONVENTION}/signatories", params=at).json()["signed"]}
    first = releases(both)["ai-summits-2026-11-25"]["loaded_at"]
    then = {s["party"] for s in both.get(f"/v1/declarations/{CONVENTION}/signatories",
                                         params={**at, "known_at": first}).json()["signed"]}
    assert {"LI", "CH", "UA", "UY", "AM"} <= now - then
    assert "BA" not in now  # Bosnia and Herzegovina's signing date was not found: not added


def test_a_release_whose_difference_has_no_reason_is_refused_and_stores_nothing(runtime: Runtime,
                                                                                tmp_path: Path) -> None:
    folder = tmp_path / "releases"
    folder.mkdir()
    for path in RELEASES.glob("20*.json"):
        shutil.copy(path, folder / path.name)
    later = json.loads((folder / "2026-12-07.json").read_text(encoding="utf-8"))
    later["changes"] = [c for c in later["changes"] if c.get("party") != "ME"]
    (folder / "2026-12-07.json").write_text(json.dumps(later), encoding="utf-8")
    seed(runtime.app, folder, through="2026-11-25")
    before = stored_events(runtime)
    with pytest.raises(ReleaseUnexplained, match="'ME'"):
        seed(runtime.app, folder)
    assert stored_events(runtime) == before
