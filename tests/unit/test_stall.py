"""`diplo status --stalled-after`: a lag that does not shrink is a stall, a lag that shrinks is not."""

from __future__ import annotations

from pathlib import Path

from api.stall import Seen, judge, keep, load


def test_a_first_run_keeps_what_it_saw_and_finds_no_stall() -> None:
    assert judge(None, 40, 7, now=1000.0) == (Seen(40, 1000.0), 0.0)


def test_a_position_that_stays_behind_the_log_counts_from_when_it_last_moved() -> None:
    seen, still = judge(Seen(40, 1000.0), 40, 7, now=1150.0)
    assert seen == Seen(40, 1000.0)
    assert still == 150.0


def test_a_position_that_moved_is_not_stalled_however_long_the_lag() -> None:
    assert judge(Seen(40, 1000.0), 41, 900_000, now=5000.0) == (Seen(41, 5000.0), 0.0)


def test_read_models_at_the_head_are_never_stalled() -> None:
    assert judge(Seen(40, 1000.0), 40, 0, now=9000.0) == (Seen(40, 9000.0), 0.0)


def test_the_record_is_kept_between_runs_and_an_unreadable_one_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "progress.json"
    assert load(path) is None
    keep(path, Seen(12, 34.5))
    assert load(path) == Seen(12, 34.5)
    path.write_text("{not json", encoding="utf-8")
    assert load(path) is None
