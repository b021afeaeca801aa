"""Whether the read models stopped moving, for a health check run again and again (`diplo status --stalled-after`).

One run sees only a moment: a lag is not a fault (a release of 870,109 votes takes a while to project). What is
a fault is a lag that does not shrink: the position of the read models unchanged while the log is ahead of them.
Each run keeps the position it saw, and since when it has not moved, in a small file for the next run.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Seen:
    """The lowest read-model position a run saw, and the moment (Unix seconds) it was last seen moving."""

    position: int
    moving_at: float


def judge(previous: Seen | None, position: int, lag: int, now: float) -> tuple[Seen, float]:
    """What to keep for the next run, and for how many seconds the read models have been behind without moving
    (0 while they move, or have nothing to do)."""
    if previous is None or lag == 0 or position != previous.position:
        return Seen(position, now), 0.0
    return previous, max(now - previous.moving_at, 0.0)


def load(path: Path) -> Seen | None:
    """The previous run's record; None when there is none or it cannot be read (the next run starts afresh)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Seen(int(data["position"]), float(data["moving_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def keep(path: Path, seen: Seen) -> None:
    """Written beside itself and renamed, so a run killed half-way leaves the last whole record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(asdict(seen)), encoding="utf-8")
    os.replace(partial, path)
