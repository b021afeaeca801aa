"""What two versions of the record say differently about roll calls: the roll-call half of `/v1/diff` across two
knowledge times, so that the difference a release made (its new roll calls and votes, the votes it retracted or
changed, the details it corrected) can be listed like any other correction.

Read from the votes model's tables (projections/votes.py): a roll call's details are kept per version in
knowledge time, and its vote rows carry the positions that made and ended them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from projections.store import Sql
from projections.votes import VISIBLE_ROLLCALL, known_cut

# The details a correction can change, compared field by field (the votes are compared apart).
DETAILS = ("body", "session", "date", "precision", "resolution", "title", "description", "issues", "important",
           "amendment", "paragraph")
_FLAGS = ("important", "amendment", "paragraph")
_CHUNK = 500  # roll calls a query names at once (well under every driver's limit on parameters)


def _chunks(keys: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start:start + _CHUNK]


def _marks(keys: Sequence[Any]) -> str:
    return ", ".join("?" for _ in keys)


def _detail(row: dict[str, Any], name: str) -> Any:
    value = row[name]
    if name == "issues":
        return json.loads(value)
    if name in _FLAGS:
        return None if value is None else bool(value)
    return value


def _versions(sql: Sql, keys: Sequence[int], known_at: str) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(keys):
        for row in sql.rows(f"SELECT * FROM rollcalls r WHERE r.rc_key IN ({_marks(chunk)}) AND {VISIBLE_ROLLCALL}",
                            (*chunk, known_at, known_at, known_at)):
            found[int(row["rc_key"])] = row
    return found


def _changed_votes(sql: Sql, keys: Sequence[int], known_at_a: str, known_at_b: str
                   ) -> tuple[dict[tuple[int, str], str], dict[tuple[int, str], str]]:
    """The votes that count at one moment and not at the other, as (roll call, party) -> vote at each: only the
    rows whose standing differs are read (a correction of a roll call's date ends rows and starts equal ones)."""
    live_a, params_a = known_cut(sql, known_at_a).live()
    live_b, params_b = known_cut(sql, known_at_b).live()
    before: dict[tuple[int, str], str] = {}
    after: dict[tuple[int, str], str] = {}
    for chunk in _chunks(keys):
        for row in sql.rows(f"SELECT v.rc_key, v.party, v.vote, CASE WHEN {live_a} THEN 1 ELSE 0 END AS at_a"
                            f" FROM votes v WHERE v.rc_key IN ({_marks(chunk)})"
                            f" AND (CASE WHEN {live_a} THEN 1 ELSE 0 END) <> (CASE WHEN {live_b} THEN 1 ELSE 0 END)",
                            (*params_a, *chunk, *params_a, *params_b)):
            (before if row["at_a"] else after)[(int(row["rc_key"]), row["party"])] = row["vote"]
    return before, after


def diff_rollcalls(sql: Sql, *, at: str, known_at_a: str, known_at_b: str, parties: Sequence[str] = (),
                   confidences: Sequence[str] = ()) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every roll call dated by `at` that the record gave differently at two moments, in date order, and the
    counts over all of them. A roll call is `added` (not recorded at the first moment), `corrected` (its details
    differ) or `votes` (only its votes differ); each says which details changed, how many votes were added,
    retracted or changed, and the events recorded between the two moments that did it. With `parties`, only the
    roll calls on which one of them voted differently, with their votes before and after."""
    touched = [row["rollcall"] for row in sql.rows(
        "SELECT DISTINCT rollcall FROM vote_events WHERE recorded_at > ? AND recorded_at <= ?",
        (known_at_a, known_at_b))]
    totals = {"rollcalls_added": 0, "rollcalls_corrected": 0, "votes_added": 0, "votes_retracted": 0,
              "votes_changed": 0}
    if not touched:
        return [], totals
    keys: list[int] = []
    for start in range(0, len(touched), _CHUNK):
        slugs = touched[start:start + _CHUNK]
        keys += [int(r["rc_key"]) for r in sql.rows(
            f"SELECT DISTINCT rc_key FROM rollcalls WHERE id IN ({_marks(slugs)})", slugs)]
    before, after = _versions(sql, keys, known_at_a), _versions(sql, keys, known_at_b)
    votes_a, votes_b = _changed_votes(sql, keys, known_at_a, known_at_b)
    per_key: dict[int, Counter[str]] = {}
    party_votes: dict[int, list[dict[str, Any]]] = {}
    named = set(parties)
    for cell in votes_a.keys() | votes_b.keys():
        old, new = votes_a.get(cell), votes_b.get(cell)
        if old == new:
            continue
        change = "added" if old is None else "retracted" if new is None else "changed"
        per_key.setdefault(cell[0], Counter())[change] += 1
        if cell[1] in named:
            party_votes.setdefault(cell[0], []).append({"party": cell[1], "before": old, "after": new})
    events = _events(sql, known_at_a, known_at_b)
    out: list[dict[str, Any]] = []
    for key in keys:
        old_row, new_row = before.get(key), after.get(key)
        shown = new_row or old_row
        if shown is None or not _dated_by(old_row, new_row, at):
            continue
        if confidences and shown["confidence"] not in confidences:
            continue
        fields = [] if old_row is None or new_row is None else [
            {"field": name, "before": _detail(old_row, name), "after": _detail(new_row, name)}
            for name in DETAILS if _detail(old_row, name) != _detail(new_row, name)]
        counts = per_key.get(key, Counter())
        if old_row is not None and not fields and not counts:
            continue  # events between the moments that changed nothing it shows (a vote cast and retracted)
        if named and key not in party_votes:
            continue
        change = "added" if old_row is None else "corrected" if fields else "votes"
        totals["rollcalls_added" if change == "added" else "rollcalls_corrected"] += change != "votes"
        for name in ("added", "retracted", "changed"):
            totals[f"votes_{name}"] += counts[name]
        entry = {"rollcall_id": shown["id"], "date": shown["date"], "resolution": shown["resolution"],
                 "title": shown["title"], "change": change, "fields": fields,
                 "votes": {name: counts[name] for name in ("added", "retracted", "changed")},
                 "events": events.get(shown["id"], [])}
        if named:
            entry["party_votes"] = sorted(party_votes[key], key=lambda v: v["party"])
        out.append(entry)
    out.sort(key=lambda e: (e["date"], e["rollcall_id"]))
    return out, totals


def _dated_by(old_row: dict[str, Any] | None, new_row: dict[str, Any] | None, at: str) -> bool:
    """Whether either version of the roll call is dated on or before `at` (the date both are asked about)."""
    return any(row is not None and row["date"] <= at for row in (old_row, new_row))


def _events(sql: Sql, known_at_a: str, known_at_b: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in sql.rows("SELECT * FROM vote_events WHERE recorded_at > ? AND recorded_at <= ? ORDER BY position",
                        (known_at_a, known_at_b)):
        found.setdefault(row["rollcall"], []).append({
            "event_id": row["event_id"], "kind": row["kind"], "position": row["position"],
            "recorded_at": row["recorded_at"], "release": row["release"], "reason": row["reason"],
            "sources": json.loads(row["sources"])})
    return found
