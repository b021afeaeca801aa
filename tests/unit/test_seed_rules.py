"""The seed data's rule, checked over every AI-summit release from 2026-12-07 on (seeds/data/README.md):

- every source an act or a statement cites is one that was read, i.e. listed in sources.json;
- an act rated `high` rests on a primary source that names the party, or on two independent sources (different
  originating outlets, not syndicated copies of one story) that name it;
- a release is a full snapshot: its summits and declarations are those of release 1 (their events cannot be
  corrected), and every act or statement that differs from the release before it has an entry in `changes`.

Release 1 (2026-11-25) is history and stays byte for byte as every store was seeded from it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from domain.parties import PartyRegistry
from seeds.organisations import load_organisations

RELEASES = Path(__file__).resolve().parents[2] / "seeds" / "data" / "ai-summits"
FIRST = RELEASES / "2026-11-25.json"
FIRST_SHA256 = "019a112eec2d3c5a4c86560a2e3cbeb54304dd1c0ab7d904182e43b651fa7be6"
RULE_FROM = "2026-12-07"

Release = dict[str, Any]
Sources = dict[str, dict[str, Any]]


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def release_paths() -> list[Path]:
    return sorted(p for p in RELEASES.glob("*.json") if p.stem[:4].isdigit())


def ruled_releases() -> list[Path]:
    return [p for p in release_paths() if p.stem >= RULE_FROM]


def origin(outlet: str) -> str:
    """The outlet a story comes from: "Reuters via Business Recorder" is Reuters's story."""
    return outlet.split(" via ")[0].strip().lower()


def names(sources: Sources, url: str, declaration_id: str, party: str) -> bool:
    return party in sources.get(url, {}).get("names", {}).get(declaration_id, [])


def violations(release: Release, sources: Sources) -> list[str]:
    """Every breach of the rule in one release, as sentences; an empty list when it holds."""
    found: list[str] = []
    for act in release["acts"]:
        label = f"{act['declaration_id']} {act['party']} {act['kind']} {act['occurred_on']}"
        urls = [s["url"] for s in act["sources"]]
        found += [f"{label} cites {url}, which was not read" for url in urls if url not in sources]
        if act["confidence"] != "high":
            continue
        naming = [u for u in urls if names(sources, u, act["declaration_id"], act["party"])]
        primary = any(sources[u]["primary"] for u in naming)
        independent = {origin(sources[u]["outlet"]) for u in naming}
        if not primary and len(independent) < 2:
            found.append(f"{label} is high but rests on {len(independent)} independent source(s) naming the party "
                         "and no primary one")
    for st in release["statements"]:
        found += [f"statement of {st['speaker']} on {st['occurred_on']} cites {s['url']}, which was not read"
                  for s in st["sources"] if s["url"] not in sources]
    return found


def act_key(act: dict[str, Any]) -> tuple[str, ...]:
    return (act["declaration_id"], act["party"], act["kind"], act["occurred_on"], act["precision"])


def statement_key(st: dict[str, Any]) -> tuple[str, ...]:
    return (st["party"], st["occurred_on"], st["speaker"], st["text"])


def differences(before: Release, after: Release) -> set[tuple[str, tuple[str, ...]]]:
    """What a loader would record between two releases: acts and statements added, removed or corrected."""
    diff: set[tuple[str, tuple[str, ...]]] = set()
    for items, key in (("acts", act_key), ("statements", statement_key)):
        old = {key(x): x for x in before[items]}
        new = {key(x): x for x in after[items]}
        diff |= {("added", k) for k in new.keys() - old.keys()}
        diff |= {("removed", k) for k in old.keys() - new.keys()}
        for k in old.keys() & new.keys():
            if old[k] != new[k]:
                changed = {f for f in old[k].keys() | new[k].keys() if old[k].get(f) != new[k].get(f)}
                diff.add(("confidence" if changed == {"confidence"} else "corrected", k))
    return diff


def listed(release: Release) -> set[tuple[str, tuple[str, ...]]]:
    out: set[tuple[str, tuple[str, ...]]] = set()
    for c in release["changes"]:
        key = (statement_key(c) if c["kind"] == "statement" else act_key(c))
        out.add((c["what"], key))
    return out


@pytest.fixture(scope="module")
def sources() -> Sources:
    return dict(load(RELEASES / "sources.json"))


@pytest.fixture(scope="module")
def second() -> Release:
    return dict(load(RELEASES / "2026-12-07.json"))


def test_the_first_release_is_kept_byte_for_byte() -> None:
    assert hashlib.sha256(FIRST.read_bytes()).hexdigest() == FIRST_SHA256


@pytest.mark.parametrize("path", ruled_releases(), ids=lambda p: p.stem)
def test_every_release_from_2026_12_07_on_keeps_the_rule(path: Path, sources: Sources) -> None:
    assert violations(load(path), sources) == []


@pytest.mark.parametrize("path", ruled_releases(), ids=lambda p: p.stem)
def test_a_release_names_itself_after_its_file(path: Path) -> None:
    release = load(path)["release"]
    assert release["name"] == f"ai-summits-{path.stem}"
    assert release["date"] == path.stem
    assert release["about"]


def test_a_high_act_on_one_secondary_source_breaks_the_rule(second: Release, sources: Sources) -> None:
    doctored = copy.deepcopy(second)
    act = next(a for a in doctored["acts"] if a["declaration_id"] == "paris-statement" and a["party"] == "NZ")
    assert act["confidence"] == "medium"  # HCAMag alone names New Zealand
    act["confidence"] = "high"
    assert violations(doctored, sources) == [
        "paris-statement NZ signed 2025-02-11 is high but rests on 1 independent source(s) naming the party and "
        "no primary one"]


def test_syndicated_copies_of_one_story_count_once(second: Release, sources: Sources) -> None:
    doctored = copy.deepcopy(second)
    act = next(a for a in doctored["acts"] if a["declaration_id"] == "coe-framework-convention-ai"
               and a["party"] == "ME")
    # the Council of Europe's own page is primary; its two syndicated copies alone are one story
    act["sources"] = [s for s in act["sources"] if "publicnow.com" in s["url"]]
    assert len(act["sources"]) == 2
    assert len(violations(doctored, sources)) == 1


def test_a_source_nobody_read_breaks_the_rule(second: Release, sources: Sources) -> None:
    doctored = copy.deepcopy(second)
    unread = "https://www.elysee.fr/en/emmanuel-macron/2025/02/11/statement-on-inclusive-and-sustainable-artificial-intelligence-for-people-and-the-planet"
    doctored["statements"][0]["sources"].append({"title": "Elysee", "url": unread, "outlet": "Elysee",
                                                 "published_on": None})
    assert len(violations(doctored, sources)) == 1
    assert unread not in sources


def test_the_first_release_would_not_have_kept_the_rule(sources: Sources) -> None:
    """Why the rule starts with the second release: the first cited pages nobody read."""
    assert violations(load(FIRST), sources) != []


@pytest.mark.parametrize("path", ruled_releases(), ids=lambda p: p.stem)
def test_summits_and_declarations_are_those_of_the_first_release(path: Path) -> None:
    first, release = load(FIRST), load(path)
    assert release["summits"] == first["summits"]
    assert release["declarations"] == first["declarations"]


def test_every_difference_from_the_first_release_is_listed_with_its_reason(second: Release) -> None:
    assert listed(second) == differences(load(FIRST), second)
    assert len(second["changes"]) == len(listed(second))
    assert all(c["reason"] and c["sources"] for c in second["changes"])


def test_montenegro_is_retracted_at_its_first_sighting_and_recorded_at_its_signature(second: Release) -> None:
    about = [(c["what"], c["occurred_on"]) for c in second["changes"]
             if c.get("declaration_id") == "coe-framework-convention-ai" and c["party"] == "ME"]
    assert sorted(about) == [("added", "2024-11-05"), ("removed", "2025-02-11")]


def test_acts_and_statements_are_unique_and_name_known_parties(second: Release) -> None:
    registry = PartyRegistry(load_organisations())
    keys = [act_key(a) for a in second["acts"]]
    assert len(keys) == len(set(keys))
    statements = [statement_key(s) for s in second["statements"]]
    assert len(statements) == len(set(statements))
    unknown = {x["party"] for x in [*second["acts"], *second["statements"]] if registry.find(x["party"]) is None}
    assert unknown == set()
    declarations = {d["id"] for d in second["declarations"]}
    assert {a["declaration_id"] for a in second["acts"]} <= declarations


def test_every_source_read_says_when_and_what(sources: Sources) -> None:
    for url, s in sources.items():
        assert url.startswith("http")
        assert s["read_on"] == RULE_FROM and isinstance(s["primary"], bool) and s["outlet"] and s["read"]
        assert all(isinstance(codes, list) for codes in s["names"].values())


CHANGES_IN_ORDER = """
import json
from seeds.loader import _changes, releases
first, second = (json.loads(p.read_text(encoding="utf-8")) for p in releases()[:2])
commands, _ = _changes(first, second)
print(json.dumps([repr(c) for c in commands]))
"""


def test_a_later_release_gives_its_commands_in_the_same_order_in_every_process() -> None:
    """Their order gives the events their positions and ids: a store seeded anywhere must show the README's. It
    followed a set's order, which changes with the process's hash seed."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    orders = []
    for hash_seed in ("1", "2", "3"):
        done = subprocess.run([sys.executable, "-c", CHANGES_IN_ORDER], cwd=root, capture_output=True, text=True,
                              timeout=120, check=False,
                              env={**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)})
        assert done.returncode == 0, done.stderr
        orders.append(json.loads(done.stdout))
    assert len(orders[0]) > 100
    assert orders[0] == orders[1] == orders[2]
