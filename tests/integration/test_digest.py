"""bench.digest: one SHA-256 per read-model table, the same for the same rows and different for any other."""

from __future__ import annotations

from datetime import date

from api.bootstrap import Runtime
from bench.digest import digests
from domain.commands import RecordRollCall, Retract
from domain.releases import LoadRelease, ReleaseFacts, RollCallFacts
from domain.rollcall import RollCall, vote_id
from domain.values import Body, Confidence, Vote
from tests.factories import SOURCES


def test_a_rebuilt_store_digests_the_same_and_a_changed_row_does_not(seeded: Runtime) -> None:
    # A roll call and a retraction of one of its votes, so the votes model has rows of every kind to digest.
    seeded.app.handle(RecordRollCall(
        id="unga-1", body=Body.UNGA, date=date(1975, 11, 10), title="A text", votes={"US": Vote.NO, "FR": Vote.YES},
        sources=SOURCES, confidence=Confidence.HIGH))
    seeded.app.handle(Retract(event_id=vote_id(RollCall.id_for("unga-1"), 1, "FR"), reason="a test", sources=SOURCES))
    seeded.app.handle_all([(1, LoadRelease(ReleaseFacts("test", "r1", SOURCES, [RollCallFacts(
        "unga-2", "UNGA", 30, date(1975, 11, 11), "day", None, "B", None, ("hr",), None, None, None,
        {"US": Vote.YES})])))])
    assert seeded.projector.wait_for(seeded.projector.head(), 30)
    before = digests(seeded.store)
    assert {"event_log", "timeline", "stance_spans", "declarations"} <= before.keys()
    assert "view_tracking" not in before and "view_versions" not in before
    assert all(count > 0 for _, count in before.values())

    seeded.projector.rebuild_beside()
    assert digests(seeded.store) == before

    with seeded.store.transaction() as sql:
        sql.execute("UPDATE timeline SET note = 'edited' WHERE position = (SELECT MIN(position) FROM timeline)")
    after = digests(seeded.store)
    assert after["timeline"][0] != before["timeline"][0]
    assert {t: d for t, d in after.items() if t != "timeline"} == {t: d for t, d in before.items() if t != "timeline"}
