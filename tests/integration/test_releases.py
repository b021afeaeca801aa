"""Releases of a data set as knowledge times: loading release B over A records only the differences, so the
record then holds B's facts, and a reading as the record stood after A still gives A's.

The real two `unvotes` releases on both backends (a slice of them: every 12th roll call, with everything that
changed between them), a property test over generated releases, and files that must be refused whole.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from domain.bulk import CommandRefused
from domain.releases import LoadRelease, ReleaseFacts, RollCallFacts
from domain.values import Body, Source, Vote
from projections.votes import get_rollcall, known_cut
from seeds.unga import DATA, ReleaseUnreadable, read_release
from tests.conftest import stored_events

RELEASES = DATA / "unvotes"
SOURCE = [Source("a test release", "https://example.org/release")]


def sliced(facts: ReleaseFacts, keep: Callable[[RollCallFacts], bool]) -> ReleaseFacts:
    return replace(facts, rollcalls=[rc for rc in facts.rollcalls if keep(rc)])


def every_12th(rc: RollCallFacts) -> bool:
    return int(rc.slug.removeprefix("unga-")) % 12 == 0


def load(runtime: Runtime, facts: ReleaseFacts) -> int:
    result = runtime.app.handle_all([(1, LoadRelease(facts))])
    assert runtime.projector.wait_for(runtime.projector.head(), 60)
    return int(result.events)


def votes_at(runtime: Runtime, known_at: str) -> set[tuple[str, str, str]]:
    """(roll call, party, vote) of every vote that counted at `known_at`."""
    with runtime.store.reading() as sql:
        cut = known_cut(sql, known_at)
        rows = sql.rows(f"SELECT r.id, v.party, v.vote FROM votes v JOIN rollcalls r ON r.rc_key = v.rc_key"
                        f" AND r.to_position IS NULL WHERE {cut.where}", cut.params)
    return {(r["id"], r["party"], r["vote"]) for r in rows}


def facts_votes(facts: ReleaseFacts) -> set[tuple[str, str, str]]:
    return {(rc.slug, party, str(vote)) for rc in facts.rollcalls for party, vote in rc.votes.items()}


def loaded_at(runtime: Runtime, name: str) -> str:
    with runtime.store.reading() as sql:
        found: str = sql.value("SELECT loaded_at FROM releases WHERE name = ?", (name,))
    return found


def details_at(runtime: Runtime, slug: str, known_at: str) -> dict[str, Any]:
    with runtime.store.reading() as sql:
        found = get_rollcall(sql, slug, known_at)
    assert found is not None
    return {k: found[k] for k in ("date", "title", "description", "issues", "important", "amendment", "paragraph",
                                  "resolution", "session")}


def test_the_2021_release_over_the_2017_one_records_only_what_changed(runtime: Runtime) -> None:
    first = sliced(read_release(RELEASES / "release-2017-03-14", runtime.parties), every_12th)
    second = sliced(read_release(RELEASES / "release-2021-03-08", runtime.parties), every_12th)
    load(runtime, first)
    after_first = loaded_at(runtime, "release-2017-03-14")
    stored = load(runtime, second)
    # The new roll calls and the corrected details, each roll call's changes in one event, and the release
    # itself: far fewer than a reload.
    assert 0 < stored < len(second.rollcalls)
    now = loaded_at(runtime, "release-2021-03-08")
    assert votes_at(runtime, now) == facts_votes(second)
    assert votes_at(runtime, after_first) == facts_votes(first)
    # Between these releases no vote changed: the new votes are those of the roll calls 2017 did not have.
    added = {slug for slug, _, _ in facts_votes(second) - facts_votes(first)}
    assert added and added.isdisjoint(rc.slug for rc in first.rollcalls)
    changed = next(rc for rc in second.rollcalls if rc.slug in {r.slug for r in first.rollcalls}
                   and rc.issues != next(r for r in first.rollcalls if r.slug == rc.slug).issues)
    before = next(r for r in first.rollcalls if r.slug == changed.slug)
    assert details_at(runtime, changed.slug, after_first)["issues"] == list(before.issues)
    assert details_at(runtime, changed.slug, now)["issues"] == list(changed.issues)
    head = stored_events(runtime)
    assert load(runtime, second) == 0 and stored_events(runtime) == head  # the same release twice: nothing
    with runtime.store.reading() as sql:
        releases = sql.rows("SELECT name, dataset, counts FROM releases ORDER BY position")
    assert [(r["dataset"], r["name"]) for r in releases] == [("unvotes", "release-2017-03-14"),
                                                              ("unvotes", "release-2021-03-08")]


# -- a property over generated releases ---------------------------------------------------------------------

PARTIES = ("US", "GB", "FR", "CN", "IN", "BR", "ZA")
SLUGS = tuple(f"unga-{n}" for n in range(1, 7))
VOTES = (Vote.YES, Vote.NO, Vote.ABSTAIN, Vote.ABSENT)

rollcall_facts = st.builds(
    lambda slug, day, title, issues, important, votes: RollCallFacts(
        slug=slug, body=Body.UNGA.value, session=day.year - 1945, date=day, precision="day", resolution=None,
        title=title, description=None, issues=tuple(sorted(issues)), important=important, amendment=None,
        paragraph=None, votes=votes),
    st.sampled_from(SLUGS),
    st.dates(date(1995, 1, 1), date(1995, 1, 1) + timedelta(days=3)),
    st.sampled_from(("A", "B", None)),
    st.sets(st.sampled_from(("hr", "nu", "me")), max_size=2),
    st.sampled_from((True, False, None)),
    st.dictionaries(st.sampled_from(PARTIES), st.sampled_from(VOTES), max_size=len(PARTIES)),
)
releases = st.lists(rollcall_facts, max_size=5, unique_by=lambda rc: rc.slug)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=releases, b=releases)
def test_loading_a_then_b_gives_bs_facts_and_as_facts_known_at_between(tmp_path_factory: Any, a: list[RollCallFacts],
                                                                         b: list[RollCallFacts]) -> None:
    folder = tmp_path_factory.mktemp("release")
    runtime = bootstrap(Settings(data_dir=folder, write_tokens="t"), start_projector=False, follow=False)
    try:
        first = ReleaseFacts("generated", "a", SOURCE, a)
        second = ReleaseFacts("generated", "b", SOURCE, b)
        load_now(runtime, first)
        after_a = loaded_at(runtime, "a")
        load_now(runtime, second)
        after_b = loaded_at(runtime, "b")
        assert votes_at(runtime, after_a) == facts_votes(first)
        assert votes_at(runtime, after_b) == facts_votes(second)
        for rc in b:
            assert details_at(runtime, rc.slug, after_b)["title"] == rc.title
            assert details_at(runtime, rc.slug, after_b)["issues"] == list(rc.issues)
        for rc in a:
            assert details_at(runtime, rc.slug, after_a)["title"] == rc.title
        head = stored_events(runtime)
        load_now(runtime, second)
        assert stored_events(runtime) == head
    finally:
        runtime.close()


def load_now(runtime: Runtime, facts: ReleaseFacts) -> None:
    runtime.app.handle_all([(1, LoadRelease(facts))])
    runtime.projector.catch_up()


def test_a_release_leaves_votes_recorded_by_hand_or_by_another_data_set_as_they_are(runtime: Runtime) -> None:
    rc = RollCallFacts("unga-1", "UNGA", 50, date(1995, 1, 2), "day", None, "T", None, (), None, None, None,
                       {"US": Vote.YES, "FR": Vote.NO})
    load(runtime, ReleaseFacts("one", "r1", SOURCE, [rc]))
    # Another data set says FR voted yes, and knows GB's vote: GB is added, FR's vote is left and counted.
    load(runtime, ReleaseFacts("two", "r1", SOURCE, [replace(rc, votes={"FR": Vote.YES, "GB": Vote.NO})]))
    now = loaded_at(runtime, "r1")
    assert {v for v in votes_at(runtime, "9999-12-31T00:00:00.000000+00:00")} == {
        ("unga-1", "US", "yes"), ("unga-1", "FR", "no"), ("unga-1", "GB", "no")}
    with runtime.store.reading() as sql:
        counts = sql.value("SELECT counts FROM releases WHERE dataset = 'two'")
    assert '"disagreements":1' in counts and now


# -- refused whole --------------------------------------------------------------------------------------------


def doctored(tmp_path: Path, change: Callable[[Any], Any], name: str = "un_votes") -> Path:
    """A copy of the 2017 release with one of its tables changed (written back with pyreadr)."""
    import pyreadr

    folder = tmp_path / "release-doctored"
    shutil.copytree(RELEASES / "release-2017-03-14", folder)
    frame = pyreadr.read_r(str(folder / f"{name}.rda"), output_format="polars")[name]
    pyreadr.write_rdata(str(folder / f"{name}.rda"), change(frame), df_name=name, compress="gzip")
    return folder


def set_at(column: str, row: int, value: Any) -> Callable[[Any], Any]:
    """A change of one cell: the 0-based `row` of `column` becomes `value` (as text, or a number for rcid)."""
    import polars as pl

    def change(frame: Any) -> Any:
        kept = pl.col(column).cast(pl.String) if isinstance(value, str) else pl.col(column)
        return frame.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value)).otherwise(kept)
                                  .alias(column))
    return change


@pytest.mark.parametrize(("change", "message"), [
    (set_at("country_code", 41, "QQ"), r"row 42: country .* names no known"),
    (set_at("vote", 6, "maybe"), r"row 7: vote 'maybe' is not"),
    (set_at("rcid", 2, 999999.0), r"row 3: a vote on rcid 999999"),
    (set_at("country_code", 1, "US"), r"a second vote of US"),
])
def test_a_release_with_a_row_that_breaks_a_rule_is_refused_naming_it(
        runtime: Runtime, tmp_path: Path, change: Callable[[Any], Any], message: str) -> None:
    folder = doctored(tmp_path, change)
    with pytest.raises(ReleaseUnreadable, match=message):
        read_release(folder, runtime.parties)
    assert stored_events(runtime) == 0


def test_unreadable_files_are_refused_and_nothing_is_stored(runtime: Runtime, tmp_path: Path) -> None:
    folder = tmp_path / "release-broken"
    shutil.copytree(RELEASES / "release-2017-03-14", folder)
    (folder / "un_votes.rda").write_bytes((folder / "un_votes.rda").read_bytes()[:5000])
    with pytest.raises(ReleaseUnreadable, match=r"un_votes\.rda: not a readable R data file"):
        read_release(folder, runtime.parties)
    (folder / "un_votes.rda").unlink()
    with pytest.raises(ReleaseUnreadable, match=r"missing un_votes\.rda"):
        read_release(folder, runtime.parties)
    assert stored_events(runtime) == 0


def test_a_release_naming_a_party_on_a_day_it_did_not_exist_stores_nothing(runtime: Runtime) -> None:
    rc = RollCallFacts("unga-1", "UNGA", 50, date(1995, 1, 2), "day", None, "T", None, (), None, None, None,
                       {"US": Vote.YES, "DDDE": Vote.NO})
    with pytest.raises(CommandRefused, match="DDDE"):
        runtime.app.handle_all([(1, LoadRelease(ReleaseFacts("one", "r1", SOURCE, [rc])))])
    assert stored_events(runtime) == 0
