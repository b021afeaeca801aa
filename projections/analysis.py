"""Analysts' questions over the read models: the world at a date, replays frame by frame, the
differences between two dates or two versions of the record, and the acts behind each stance.

Every stance comes from the stance spans (one indexed lookup per date, see stance_history); every
act from the timeline. Both order and count acts by their effective date (domain.values.effective_on),
so a replay, a diff and a stance answer can never disagree about when an approximate act counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from domain.values import (
    CONFIDENCE_RANK,
    ActKind,
    Confidence,
    EventKind,
    Precision,
    Stance,
    at_least,
    is_approximate,
    period_end,
)
from projections.catalogue import get_declaration, list_declarations
from projections.stance_history import BOTH_TIMES, both_times
from projections.store import Sql
from projections.timeline import entry

Pair = tuple[str, str]  # (party, declaration_id)


class Step(StrEnum):
    """The calendar period of one replay frame."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

Cell = dict[str, Any]


@dataclass(frozen=True)
class Scope:
    """Which stances a question is about: some parties, some declarations (empty: all), and how sure."""

    parties: tuple[str, ...] = ()
    declarations: tuple[str, ...] = ()
    min_confidence: str = Confidence.LOW

    def where(self, alias: str = "") -> tuple[str, list[Any]]:
        """SQL conditions (each starting with AND) restricting rows to the scope's parties and declarations."""
        prefix = f"{alias}." if alias else ""
        clauses, params = "", list[Any]()
        for column, values in (("party", self.parties), ("declaration_id", self.declarations)):
            if values:
                clauses += f" AND {prefix}{column} IN ({', '.join('?' for _ in values)})"
                params.extend(values)
        return clauses, params

    def confident(self) -> list[str]:
        """The confidence levels that count, for a SQL IN list."""
        floor = CONFIDENCE_RANK[Confidence(self.min_confidence)]
        return [str(c) for c, rank in CONFIDENCE_RANK.items() if rank >= floor]


# -- stances at a date --------------------------------------------------------------------------------------

# A cell names its act; the act's sources are one explain or timeline away, so cells leave them out.
_CELL = ("SELECT s.party, s.declaration_id, s.stance, s.valid_from AS since, s.precision, s.confidence,"
         " s.event_id, s.position FROM stance_spans s WHERE 1 = 1")


def _cell(row: dict[str, Any]) -> Cell:
    return {**row, "approximate": is_approximate(row["precision"])}


def cells_at(sql: Sql, at: str, known_at: str, scope: Scope) -> list[Cell]:
    """Every stance in scope at `at`, as recorded by `known_at`: one lookup on the stance spans."""
    clauses, params = scope.where("s")
    rows = sql.rows(_CELL + BOTH_TIMES + clauses + " ORDER BY s.declaration_id, s.party",
                    [*both_times(at, known_at, scope.min_confidence), *params])
    return [_cell(r) for r in rows]


def _started_between(sql: Sql, first: str, last: str, known_at: str, scope: Scope) -> list[Cell]:
    """The stances in force at `last` that began on or after `first`: exactly the pairs whose stance
    changed in [first, last]. (At a fixed known_at a pair's spans tile valid time from its first act
    onwards, so a stance never lapses back to none, and a span in force at `last` that began before
    `first` was already in force the day before.)"""
    clauses, params = scope.where("s")
    rows = sql.rows(_CELL + BOTH_TIMES + " AND s.valid_from >= ?" + clauses + " ORDER BY s.declaration_id, s.party",
                    [*both_times(last, known_at, scope.min_confidence), first, *params])
    return [_cell(r) for r in rows]


def declarations_axis(sql: Sql, at: str, known_at: str, scope: Scope) -> list[dict[str, Any]]:
    """The declarations a matrix shows: the chosen ones, or every one published by `at` and recorded by `known_at`."""
    if scope.declarations:
        found = [get_declaration(sql, d) for d in scope.declarations]
        rows = [d for d in found if d is not None]
    else:
        rows = [d for d in list_declarations(sql, known_at=known_at) if d["published_on"] <= at]
    return [{"id": d["id"], "title": d["title"], "published_on": d["published_on"]} for d in rows]


def world(sql: Sql, at: str, known_at: str, scope: Scope) -> dict[str, Any]:
    """The stance of every party on every declaration at a date, as a matrix: each declaration and
    party listed once, `matrix[i][j]` the stance of party i on declaration j (null: none), and the
    details of every stance once in `cells`."""
    declarations = declarations_axis(sql, at, known_at, scope)
    columns = {d["id"]: j for j, d in enumerate(declarations)}
    cells = [c for c in cells_at(sql, at, known_at, scope) if c["declaration_id"] in columns]
    parties = sorted({c["party"] for c in cells} | set(scope.parties))
    rows = {p: i for i, p in enumerate(parties)}
    matrix: list[list[str | None]] = [[None] * len(declarations) for _ in parties]
    for cell in cells:
        matrix[rows[cell["party"]]][columns[cell["declaration_id"]]] = cell["stance"]
    cells.sort(key=lambda c: (c["party"], columns[c["declaration_id"]]))
    return {"at": at, "known_at": known_at, "min_confidence": str(scope.min_confidence),
            "declarations": declarations, "parties": parties, "matrix": matrix, "cells": cells}


# -- the acts behind the stances ----------------------------------------------------------------------------

_ACT_KINDS = ", ".join(f"'{k}'" for k in ActKind)


def explain(
    sql: Sql, *, at: str, known_at: str, min_confidence: str, party: str | None = None,
    declaration_id: str | None = None,
) -> dict[Pair, list[dict[str, Any]]]:
    """For each (party, declaration) in question, the chain of acts up to `at`, as recorded by
    `known_at`, in valid-time order: each marked with whether it counts and the stance it left."""
    assert party is not None or declaration_id is not None
    where, params = "", list[Any]()
    if party is not None:
        where += " AND party = ?"
        params.append(party)
    if declaration_id is not None:
        where += " AND declaration_id = ?"
        params.append(declaration_id)
    rows = sql.rows(
        f"SELECT * FROM timeline WHERE kind IN ({_ACT_KINDS}){where} AND recorded_at <= ? AND effective_on <= ?"
        " ORDER BY effective_on, position",
        [*params, known_at, at],
    )
    chains: dict[Pair, list[dict[str, Any]]] = {}
    stance: dict[Pair, str] = {}
    for row in rows:
        item = entry(row, known_at)
        pair = (item["party"], item["declaration_id"])
        why_not = "retracted" if item["retracted"] else None
        if why_not is None and not at_least(item["confidence"], min_confidence):
            why_not = "below min_confidence"
        if why_not is None:
            stance[pair] = item["kind"]
        chains.setdefault(pair, []).append({
            **item, "counts": why_not is None, "why_not": why_not,
            "stance_after": stance[pair] if why_not is None else None,
        })
    return chains


# -- replay ---------------------------------------------------------------------------------------------------


def step_end(day: date, step: str) -> date:
    """The last day of the calendar period of `step` that holds `day` (weeks end on Sunday, ISO 8601)."""
    if step == Step.DAY:
        return day
    if step == Step.WEEK:
        left = 6 - day.weekday()
        return date.max if (date.max - day).days < left else day + timedelta(days=left)
    if step == Step.MONTH:
        return period_end(day, Precision.MONTH)
    if step == Step.QUARTER:
        return period_end(date(day.year, (day.month - 1) // 3 * 3 + 3, 1), Precision.MONTH)
    if step == Step.YEAR:
        return date(day.year, 12, 31)
    raise ValueError(f"unknown step {step!r}")


def step_label(day: date, step: str) -> str:
    """The name of the period holding `day`: 2025-02-11, 2025-W07, 2025-02, 2025-Q1 or 2025."""
    if step == Step.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if step == Step.MONTH:
        return day.strftime("%Y-%m")
    if step == Step.QUARTER:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if step == Step.YEAR:
        return str(day.year)
    return day.isoformat()


def count_frames(first: date, last: date, step: str) -> int:
    """How many frames a replay from `first` to `last` has, without walking them."""
    if step == Step.DAY:
        return (last - first).days + 1
    if step == Step.WEEK:
        return ((last - timedelta(days=last.weekday())) - (first - timedelta(days=first.weekday()))).days // 7 + 1
    months = (last.year - first.year) * 12 + last.month - first.month
    if step == Step.MONTH:
        return months + 1
    if step == Step.QUARTER:
        return (last.year - first.year) * 4 + (last.month - 1) // 3 - (first.month - 1) // 3 + 1
    return last.year - first.year + 1


def frame_periods(first: date, last: date, step: str) -> Iterator[tuple[date, date]]:
    """(starts_on, at) of each frame: calendar periods of `step`, the first and last clipped to [first, last]."""
    current = first
    while True:
        end = min(step_end(current, step), last)
        yield current, end
        if end >= last:
            return
        current = end + timedelta(days=1)


def _key(cell: Cell | None) -> tuple[str, str] | None:
    return None if cell is None else (cell["stance"], cell["event_id"])


def _change(pair: Pair, before: Cell | None, after: Cell | None) -> dict[str, Any]:
    return {"party": pair[0], "declaration_id": pair[1],
            "stance": after["stance"] if after else Stance.NONE,
            "previous": before["stance"] if before else Stance.NONE,
            "since": after["since"] if after else None, "precision": after["precision"] if after else None,
            "approximate": bool(after and after["approximate"]), "confidence": after["confidence"] if after else None,
            "event_id": after["event_id"] if after else None, "position": after["position"] if after else None}


def events_between(sql: Sql, first: str, last: str, known_at: str, scope: Scope) -> list[dict[str, Any]]:
    """Acts and statements (and summits and publications) counting from a date in [first, last], as recorded
    by `known_at`, at or above the scope's confidence; retracted ones stay, marked, as on the timeline."""
    clauses, params = scope.where()
    levels = scope.confident()
    rows = sql.rows(
        "SELECT * FROM timeline WHERE effective_on >= ? AND effective_on <= ? AND recorded_at <= ?"
        f" AND confidence IN ({', '.join('?' for _ in levels)}){clauses} ORDER BY effective_on, position",
        [first, last, known_at, *levels, *params],
    )
    return [entry(r, known_at) for r in rows]


def replay(
    reading: Callable[[], AbstractContextManager[Sql]], *, first: date, last: date, step: str, known_at: str,
    scope: Scope,
) -> Iterator[dict[str, Any]]:
    """Frames from `first` to `last`, one per calendar period of `step`, lazily.

    Each frame is the state at the end of its period (`at`): the stances that changed since the
    previous frame (for the first, since the day before `first`) and the acts and statements of its
    period. The first frame also carries the full state. Each frame is read in a transaction of its
    own, so a long replay holds no snapshot open and builds nothing in memory but the current state.
    """
    state: dict[Pair, Cell] = {}
    for index, (starts_on, at) in enumerate(frame_periods(first, last, step)):
        with reading() as sql:
            if index == 0:
                full = cells_at(sql, at.isoformat(), known_at, scope)
                before = ({} if starts_on == date.min else
                          {(c["party"], c["declaration_id"]): c
                           for c in cells_at(sql, (starts_on - timedelta(days=1)).isoformat(), known_at, scope)})
                state = {(c["party"], c["declaration_id"]): c for c in full}
                changes = [_change(pair, before.get(pair), cell) for pair, cell in state.items()
                           if _key(before.get(pair)) != _key(cell)]
                changes += [_change(pair, cell, None) for pair, cell in before.items() if pair not in state]
            else:
                full = None
                changes = []
                for cell in _started_between(sql, starts_on.isoformat(), at.isoformat(), known_at, scope):
                    pair = (cell["party"], cell["declaration_id"])
                    changes.append(_change(pair, state.get(pair), cell))
                    state[pair] = cell
            events = events_between(sql, starts_on.isoformat(), at.isoformat(), known_at, scope)
        yield {"frame": index, "period": step_label(starts_on, step), "starts_on": starts_on.isoformat(),
               "at": at.isoformat(), "known_at": known_at, "state": full, "changes": changes, "events": events}


def apply_frame(state: dict[Pair, Cell], frame: dict[str, Any]) -> dict[Pair, tuple[str, str | None]]:
    """Folds a frame into a running state of (stance, event_id) per pair; returns the state after it.
    What a client does with a replay, and what the tests check against the world at each frame."""
    if frame["state"] is not None:
        state.clear()
        state.update({(c["party"], c["declaration_id"]): c for c in frame["state"]})
    else:
        for change in frame["changes"]:
            pair = (change["party"], change["declaration_id"])
            if change["stance"] == Stance.NONE:
                state.pop(pair, None)
            else:
                state[pair] = change
    return {pair: (c["stance"], c["event_id"]) for pair, c in state.items()}


# -- differences ----------------------------------------------------------------------------------------------


def _by_pair(cells: Sequence[Cell]) -> dict[Pair, Cell]:
    return {(c["party"], c["declaration_id"]): c for c in cells}


def _side(cell: Cell | None) -> dict[str, Any]:
    if cell is None:
        return {"stance": Stance.NONE, "since": None, "precision": None, "approximate": False, "confidence": None,
                "event_id": None, "position": None}
    return {k: cell[k] for k in ("stance", "since", "precision", "approximate", "confidence", "event_id", "position")}


def _differences(before: list[Cell], after: list[Cell]) -> list[tuple[Pair, Cell | None, Cell | None]]:
    a, b = _by_pair(before), _by_pair(after)
    pairs = sorted(p for p in set(a) | set(b) if _key(a.get(p)) != _key(b.get(p)))
    return [(p, a.get(p), b.get(p)) for p in pairs]


def _act(item: dict[str, Any]) -> dict[str, Any]:
    keep = ("event_id", "kind", "party", "declaration_id", "occurred_on", "effective_on", "precision", "approximate",
            "confidence", "position", "recorded_at", "reason", "sources", "retracted")
    return {k: item[k] for k in keep}


def _retraction(item: dict[str, Any]) -> dict[str, Any]:
    """A retraction as an event of the difference, naming the act it took out."""
    retraction = item["retraction"]
    return {"event_id": retraction["event_id"], "kind": EventKind.RETRACTED, "party": item["party"],
            "declaration_id": item["declaration_id"], "occurred_on": None, "effective_on": None, "precision": None,
            "approximate": False, "confidence": None, "position": retraction["position"],
            "recorded_at": retraction["recorded_at"], "reason": retraction["reason"],
            "sources": retraction["sources"], "retracted": False, "retracts": _act(item)}


def _valid_time(event: dict[str, Any]) -> tuple[str, int]:
    """Replay's and history's order: the date an act counts from, then its position; a retraction takes the
    place of the act it took out (just after it: it was recorded later)."""
    act = event["retracts"] or event
    return act["effective_on"], event["position"]


def _assemble(
    differences: list[tuple[Pair, Cell | None, Cell | None]], events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    by_pair: dict[Pair, list[dict[str, Any]]] = {}
    for event in events:
        by_pair.setdefault((event["party"], event["declaration_id"]), []).append(event)
    out = []
    for pair, before, after in differences:
        made = sorted(by_pair.get(pair, []), key=_valid_time)
        out.append({"party": pair[0], "declaration_id": pair[1], "before": _side(before), "after": _side(after),
                    "stance_changed": _side(before)["stance"] != _side(after)["stance"], "events": made})
    return out


def diff_valid_time(sql: Sql, *, from_at: str, to_at: str, known_at: str, scope: Scope) -> list[dict[str, Any]]:
    """Every stance that differs between two dates in the same version of the record, with the acts
    counting from a date in (from_at, to_at] that made the difference."""
    differences = _differences(cells_at(sql, from_at, known_at, scope), cells_at(sql, to_at, known_at, scope))
    if not differences:
        return []
    clauses, params = scope.where()
    rows = sql.rows(
        f"SELECT * FROM timeline WHERE kind IN ({_ACT_KINDS}) AND effective_on > ? AND effective_on <= ?"
        f" AND recorded_at <= ?{clauses} ORDER BY effective_on, position",
        [from_at, to_at, known_at, *params],
    )
    items = [entry(r, known_at) for r in rows]
    events = [_act(i) | {"retracts": None} for i in items
              if not i["retracted"] and at_least(i["confidence"], scope.min_confidence)]
    return _assemble(differences, events)


def diff_knowledge_time(
    sql: Sql, *, at: str, known_at_a: str, known_at_b: str, scope: Scope
) -> list[dict[str, Any]]:
    """Every stance at `at` that the record gave differently at two moments, with what was recorded
    between them that made the difference: acts recorded, and acts retracted, in (known_at_a, known_at_b]."""
    differences = _differences(cells_at(sql, at, known_at_a, scope), cells_at(sql, at, known_at_b, scope))
    if not differences:
        return []
    clauses, params = scope.where()
    levels = scope.confident()
    confident = f" AND confidence IN ({', '.join('?' for _ in levels)})"
    common = f"kind IN ({_ACT_KINDS}) AND effective_on <= ?{confident}{clauses}"
    recorded = sql.rows(f"SELECT * FROM timeline WHERE recorded_at > ? AND recorded_at <= ? AND {common}",
                        [known_at_a, known_at_b, at, *levels, *params])
    retracted = sql.rows(f"SELECT * FROM timeline WHERE retracted_at > ? AND retracted_at <= ? AND {common}",
                         [known_at_a, known_at_b, at, *levels, *params])
    events = [_act(entry(r, known_at_b)) | {"retracts": None} for r in recorded]
    events += [_retraction(entry(r, known_at_b)) for r in retracted]
    return _assemble(differences, events)
