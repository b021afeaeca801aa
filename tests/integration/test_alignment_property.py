"""Every alignment figure equals a brute-force count over the votes (issue 18, item 8), on both backends.

The count is made here, in Python, from the facts the store was given (never from the store): for a state, each
roll call's vote is the first of its line that voted (with its predecessors, each before the day it was succeeded);
`joint`, `identical`, `agreement`, `kappa`, the vote shares, the closest parties and the roll calls behind a figure
follow from the definitions in docs/votes.md. Two records:
- generated ones, loaded one after another as releases of one data set (so roll calls are re-dated, corrected and
  their votes retracted between them), each read as it stood after its release and the one before;
- the General Assembly's real record (a slice: sessions 44 to 46, 1989-1992, where the USSR, the two Germanys
  and the two Yemens end, and 65-66, 2010-2011, which the 2021 release filled in), both releases, one store per
  backend for the module: random pairs and years, as it stood after each release, with and without predecessors.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.alignment_answers import (
    Filters,
    answer_agreement,
    answer_closest,
    answer_joint_rollcalls,
    answer_vote_share,
)
from api.bootstrap import Runtime
from domain.releases import LoadRelease, ReleaseFacts, RollCallFacts
from domain.succession import Include
from domain.values import Body, Period, Source, Vote
from seeds.successions import load_registry
from seeds.unga import DATA, read_release
from tests.api.support import BACKENDS, running

REGISTRY = load_registry()
CASTS = ("yes", "no", "abstain")
SOURCE = [Source("a generated release", "https://example.org/release")]
Line = list[tuple[str, date | None]]

# -- the brute-force count -------------------------------------------------------------------------------------


def line_of(party: str, include: bool) -> Line:
    return [(m.party, m.until) for m in REGISTRY.successions.lineage(party)] if include else [(party, None)]


def spoken(rc: RollCallFacts, line: Line) -> tuple[str, str] | None:
    """(who, vote) for the line on this roll call: the first member that voted, before its end in the line."""
    for party, until in line:
        if party in rc.votes and (until is None or rc.date < until):
            return party, str(rc.votes[party])
    return None


def period_of(rc: RollCallFacts, by: Period) -> str:
    if by is Period.YEAR:
        return str(rc.date.year)
    if by is Period.DECADE:
        return f"{str(rc.date.year)[:3]}0s"
    return "unknown" if rc.session is None else str(rc.session)


def counted(rcs: Sequence[RollCallFacts], issue: str | None = None) -> list[RollCallFacts]:
    return [rc for rc in rcs if issue is None or issue in rc.issues]


def cast(rc: RollCallFacts, line: Line) -> str | None:
    found = spoken(rc, line)
    return found[1] if found and found[1] in CASTS else None


def brute_figures(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    n = len(pairs)
    if n == 0:
        return {"joint": 0, "identical": None, "agreement": None, "kappa": None}
    same = sum(a == b for a, b in pairs)
    half = sum(a != b and "abstain" in (a, b) for a, b in pairs)
    mine, theirs = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum((mine[k] / n) * (theirs[k] / n) for k in CASTS)
    observed = same / n
    return {"joint": n, "identical": observed, "agreement": (same + half / 2) / n,
            "kappa": None if expected == 1.0 else (observed - expected) / (1 - expected)}


def brute_agreement(rcs: Sequence[RollCallFacts], a: Line, b: Line, by: Period) -> dict[str, dict[str, Any]]:
    pairs: dict[str, list[tuple[str, str]]] = {}
    for rc in rcs:
        va, vb = cast(rc, a), cast(rc, b)
        if va or vb:
            pairs.setdefault(period_of(rc, by), [])
        if va and vb:
            pairs[period_of(rc, by)].append((va, vb))
    return {period: brute_figures(found) for period, found in pairs.items()}


def brute_shares(rcs: Sequence[RollCallFacts], line: Line, by: Period) -> dict[str, dict[str, Any]]:
    votes: dict[str, Counter[str]] = {}
    for rc in rcs:
        vote = cast(rc, line)
        if vote:
            votes.setdefault(period_of(rc, by), Counter())[vote] += 1
    return {period: {"votes": sum(c.values()), **{k: c[k] / sum(c.values()) for k in CASTS}}
            for period, c in votes.items()}


def brute_closest(rcs: Sequence[RollCallFacts], line: Line, by: Period, period: str) -> dict[str, dict[str, Any]]:
    own = {party for party, _ in line}
    pairs: dict[str, list[tuple[str, str]]] = {}
    for rc in rcs:
        mine = cast(rc, line)
        if not mine or period_of(rc, by) != period:
            continue
        for party, vote in rc.votes.items():
            if party not in own and str(vote) in CASTS:
                pairs.setdefault(party, []).append((mine, str(vote)))
    return {party: brute_figures(found) for party, found in pairs.items()}


def brute_behind(rcs: Sequence[RollCallFacts], a: Line, b: Line, by: Period, period: str) -> list[tuple[Any, ...]]:
    found = []
    for rc in rcs:
        sa, sb = spoken(rc, a), spoken(rc, b)
        if period_of(rc, by) == period and sa and sb and sa[1] in CASTS and sb[1] in CASTS:
            found.append((rc.date.isoformat(), rc.slug, sa, sb))
    return sorted(found)


def same_figures(got: dict[str, Any], want: dict[str, Any]) -> bool:
    if got["joint"] != want["joint"]:
        return False
    return all((got[k] is None and want[k] is None) or (got[k] is not None and want[k] is not None
                                                          and got[k] == pytest.approx(want[k], abs=1e-12))
               for k in ("identical", "agreement", "kappa"))


# -- asking the engine -------------------------------------------------------------------------------------------


def ask(runtime: Runtime, question: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
    with runtime.store.reading() as sql:
        return question(runtime, sql, *args, **kwargs)


def filters(known_at: str, include: bool, issue: str | None = None) -> Filters:
    return Filters(known_at, issue=issue, include=(Include.PREDECESSORS,) if include else ())


def loaded_at(runtime: Runtime, name: str) -> str:
    with runtime.store.reading() as sql:
        found: str = sql.value("SELECT loaded_at FROM releases WHERE name = ?", (name,))
    return found


def check_pair(runtime: Runtime, rcs: Sequence[RollCallFacts], known: str, a: str, b: str, by: Period,
               include: bool, issue: str | None = None) -> None:
    """The agreement and vote-share answers for a pair, period by period, against the brute-force count."""
    scope = counted(rcs, issue)
    got = ask(runtime, answer_agreement, a, b, by, filters(known, include, issue))["periods"]
    want = brute_agreement(scope, line_of(a, include), line_of(b, include), by)
    assert [p["period"] for p in got] == sorted(want, key=lambda p: (p == "unknown", p.zfill(6))), (a, b, by)
    for p in got:
        assert same_figures(p, want[p["period"]]), (a, b, by, include, issue, p, want[p["period"]])
    shares = ask(runtime, answer_vote_share, a, by, filters(known, include, issue))["periods"]
    wanted_shares = brute_shares(scope, line_of(a, include), by)
    assert [s["period"] for s in shares] == [p["period"] for p in got if p["period"] in wanted_shares]
    for s in shares:
        assert {k: s[k] for k in ("votes", *CASTS)} == pytest.approx(wanted_shares[s["period"]]), (a, by, s)


def check_period(runtime: Runtime, rcs: Sequence[RollCallFacts], known: str, a: str, b: str, by: Period,
                 period: str, include: bool) -> None:
    """The closest parties of `a` in one period, and the roll calls behind the pair's figure there."""
    ranked = ask(runtime, answer_closest, a, by, period, filters(known, include), 1)
    want = brute_closest(rcs, line_of(a, include), by, period)
    assert ranked["too_few"] == []
    assert {r["party"] for r in ranked["parties"]} == set(want)
    for r in ranked["parties"]:
        assert same_figures(r, want[r["party"]]), (a, period, r, want[r["party"]])
    order = [(-(r["agreement"] or 0.0), -r["joint"], r["party"]) for r in ranked["parties"]]
    assert order == sorted(order)
    behind, cursor = [], None
    while True:  # two at a time, so the cursor is exercised
        page = ask(runtime, answer_joint_rollcalls, a, b, by, period, filters(known, include), limit=2, cursor=cursor)
        behind += page["rollcalls"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = brute_behind(rcs, line_of(a, include), line_of(b, include), by, period)
    assert sorted((r["date"], r["rollcall_id"], (r["a"]["as_party"], r["a"]["vote"]),
                   (r["b"]["as_party"], r["b"]["vote"])) for r in behind) == expected
    assert [r["date"] for r in behind] == sorted(r["date"] for r in behind)
    assert same_figures(page["figures"], brute_figures([(e[2][1], e[3][1]) for e in expected]))
    assert sum(r["agreement"] for r in behind) == pytest.approx(
        (page["figures"]["agreement"] or 0.0) * len(behind))


# -- generated records, loaded one after another -----------------------------------------------------------------

POOL = ("US", "FR", "IN", "SUHH", "RU", "DE", "DDDE", "YAR", "YDYE", "YE")
VOTES = (Vote.YES, Vote.NO, Vote.ABSTAIN, Vote.ABSENT)


def alive(day: date) -> list[str]:
    return [p for p in POOL if REGISTRY.get(p).existed_on(day)]


def rollcall_on(day: date) -> st.SearchStrategy[RollCallFacts]:
    return st.builds(
        lambda slug, session, issues, important, votes: RollCallFacts(
            slug=slug, body=Body.UNGA.value, session=session, date=day, precision="day", resolution=None,
            title="T", description=None, issues=tuple(sorted(issues)), important=important, amendment=None,
            paragraph=None, votes=votes),
        st.sampled_from([f"unga-{n}" for n in range(1, 9)]),
        st.sampled_from([None, 44, 45, 46]),
        st.sets(st.sampled_from(("hr", "nu")), max_size=2),
        st.sampled_from((True, False, None)),
        st.dictionaries(st.sampled_from(alive(day)), st.sampled_from(VOTES), max_size=len(alive(day))),
    )


records = st.lists(st.dates(date(1989, 1, 1), date(1992, 12, 31)).flatmap(rollcall_on), max_size=8,
                   unique_by=lambda rc: rc.slug)
questions = st.tuples(st.sampled_from(POOL), st.sampled_from(POOL), st.sampled_from(list(Period)), st.booleans(),
                      st.sampled_from([None, "hr"]))


def check_all(runtime: Runtime, rcs: Sequence[RollCallFacts], known: str,
              asked: Sequence[tuple[str, str, Period, bool, str | None]]) -> None:
    for a, b, by, include, issue in asked:
        check_pair(runtime, rcs, known, a, b, by, include, issue)
        periods = sorted({period_of(rc, by) for rc in rcs if cast(rc, line_of(a, include))})
        for period in periods[:2]:
            check_period(runtime, rcs, known, a, b, by, period, include)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(rcs=records, asked=st.lists(questions, min_size=1, max_size=3))
def test_every_figure_of_generated_records_equals_a_count_of_their_votes(
        runtime: Runtime, rcs: list[RollCallFacts], asked: list[tuple[str, str, Period, bool, str | None]]) -> None:
    # One store for every example: each record is the next release of one data set, so the one before it is
    # retracted, re-dated and corrected where they differ, and is still there to read as it stood.
    state = STATE.setdefault(f"{runtime.settings.data_dir}/{runtime.settings.database_schema}",
                             {"n": itertools.count(), "before": None})
    name = f"r{next(state['n'])}"
    runtime.app.handle_all([(1, LoadRelease(ReleaseFacts("generated", name, SOURCE, rcs)))])
    assert runtime.projector.wait_for(runtime.projector.head(), 60)
    check_all(runtime, rcs, loaded_at(runtime, name), asked)
    if state["before"] is not None:
        earlier, earlier_name = state["before"]
        check_all(runtime, earlier, loaded_at(runtime, earlier_name), asked[:1])
    state["before"] = (rcs, name)


STATE: dict[str, dict[str, Any]] = {}  # per store: the releases loaded so far


# -- the real record ---------------------------------------------------------------------------------------------

SESSIONS = {44, 45, 46, 65, 66}


@functools.cache
def real_slice(name: str) -> ReleaseFacts:
    facts = read_release(DATA / "unvotes" / name, REGISTRY)
    return replace(facts, rollcalls=[rc for rc in facts.rollcalls if rc.session in SESSIONS])


@pytest.fixture(scope="module", params=BACKENDS)
def real(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(str(request.param), tmp_path_factory.mktemp("alignment-real")) as runtime:
        for name in ("release-2017-03-14", "release-2021-03-08"):
            runtime.app.handle_all([(1, LoadRelease(real_slice(name)))])
            assert runtime.projector.wait_for(runtime.projector.head(), 300)
        yield runtime


def voters(rcs: Sequence[RollCallFacts]) -> list[str]:
    return sorted({party for rc in rcs for party, vote in rc.votes.items() if str(vote) in CASTS})


def test_random_pairs_and_years_of_the_real_record_equal_a_count_of_its_votes(real: Runtime) -> None:
    rcs = real_slice("release-2021-03-08").rollcalls
    known = loaded_at(real, "release-2021-03-08")
    rng = random.Random(18)
    parties = voters(rcs)
    for _ in range(6):
        a, b = rng.sample(parties, 2)
        by = rng.choice(list(Period))
        check_pair(real, rcs, known, a, b, by, include=rng.random() < 0.5, issue=rng.choice([None, "hr", "co"]))
        years = sorted({str(rc.date.year) for rc in rcs if cast(rc, line_of(a, False))})
        if years:
            check_period(real, rcs, known, a, b, Period.YEAR, rng.choice(years), include=False)


def test_as_the_record_stood_after_the_2017_release_its_figures_are_the_2017_count(real: Runtime) -> None:
    before, after = real_slice("release-2017-03-14").rollcalls, real_slice("release-2021-03-08").rollcalls
    added = {rc.slug for rc in after} - {rc.slug for rc in before}
    assert any(rc.date.year in (2010, 2011) for rc in after if rc.slug in added)  # the slice holds what 2021 added
    then, now = loaded_at(real, "release-2017-03-14"), loaded_at(real, "release-2021-03-08")
    for a, b in (("US", "IL"), ("IN", "PK"), ("BR", "CN")):
        check_pair(real, before, then, a, b, Period.YEAR, include=False)
        check_pair(real, after, now, a, b, Period.YEAR, include=False)
        old = ask(real, answer_agreement, a, b, Period.YEAR, filters(then, False))["periods"]
        new = ask(real, answer_agreement, a, b, Period.YEAR, filters(now, False))["periods"]
        joint = {p["period"]: p["joint"] for p in old}
        assert any(p["joint"] > joint.get(p["period"], 0) for p in new)
    check_period(real, before, then, "US", "IL", Period.YEAR, "2010", include=False)


def test_a_state_with_its_predecessors_or_without_them_in_the_real_record(real: Runtime) -> None:
    rcs = real_slice("release-2021-03-08").rollcalls
    known = loaded_at(real, "release-2021-03-08")
    for a, b in (("RU", "US"), ("DE", "FR"), ("YE", "SA")):
        for include in (False, True):
            check_pair(real, rcs, known, a, b, Period.YEAR, include)
            check_pair(real, rcs, known, a, b, Period.SESSION, include)
    line = {p["period"]: p for p in ask(real, answer_agreement, "RU", "US", Period.YEAR,
                                        filters(known, True))["periods"]}
    own = {p["period"]: p for p in ask(real, answer_agreement, "RU", "US", Period.YEAR,
                                       filters(known, False))["periods"]}
    assert line["1990"]["joint"] > 0 and own["1990"]["joint"] == 0  # the USSR voted: Russia's line, not Russia
    behind = ask(real, answer_joint_rollcalls, "RU", "US", Period.YEAR, "1990", filters(known, True))["rollcalls"]
    assert {r["a"]["as_party"] for r in behind} == {"SUHH"}
    check_period(real, rcs, known, "DE", "FR", Period.YEAR, "1990", include=True)
