"""bench.digest: one SHA-256 per read-model table, the same for the same rows and different for any other."""

from __future__ import annotations

from api.bootstrap import Runtime
from bench.digest import digests


def test_a_rebuilt_store_digests_the_same_and_a_changed_row_does_not(seeded: Runtime) -> None:
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
