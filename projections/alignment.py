"""How states align in roll calls: vote shares, and agreement between two states, by period.

Definitions (docs/votes.md gives them with their references):
- the votes cast: yes, no and abstain (an absence is no vote on the text);
- `joint`: the roll calls on which both states cast a vote;
- `identical`: the share of those on which they voted the same;
- `agreement`: the same, with an abstention against a yes or a no counted as half an agreement — the index of
  Voeten's data set (Lijphart's index of agreement);
- `kappa`: Cohen's kappa over yes/no/abstain on the joint roll calls: (p_o - p_e) / (1 - p_e), p_o the identical
  share, p_e the agreement the two states' own vote shares would give by chance (Häge 2011); None when p_e is 1
  (both always voted the same way, so chance explains everything and nothing is left to measure).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.values import CAST

CAST_VOTES = tuple(sorted(str(v) for v in CAST))  # abstain, no, yes


class Period(StrEnum):
    """How figures are grouped in time."""

    YEAR = "year"
    SESSION = "session"
    DECADE = "decade"


def period_of(by: Period) -> Callable[[Any], str]:
    """The period a vote falls in: its year, its session, or its decade (`1990s`)."""
    if by is Period.YEAR:
        return lambda v: v.date[:4]
    if by is Period.DECADE:
        return lambda v: f"{v.date[:3]}0s"
    return lambda v: str(v.session) if v.session is not None else "unknown"


def _order(by: Period) -> Callable[[str], Any]:
    if by is Period.SESSION:
        return lambda p: (p == "unknown", int(p) if p.isdigit() else 0)
    return lambda p: p


@dataclass(frozen=True)
class Share:
    period: str
    votes: int
    yes: float
    no: float
    abstain: float
    absent: int


def vote_shares(votes: Iterable[Any], by: Period) -> list[Share]:
    """Per period, the votes cast and the share of each (absences counted apart, never in the shares)."""
    which = period_of(by)
    cast: dict[str, Counter[str]] = {}
    absent: Counter[str] = Counter()
    for vote in votes:
        period = which(vote)
        if vote.vote in CAST_VOTES:
            cast.setdefault(period, Counter())[vote.vote] += 1
        else:
            absent[period] += 1
            cast.setdefault(period, Counter())
    out = []
    for period in sorted(cast, key=_order(by)):
        counts = cast[period]
        n = sum(counts.values())
        out.append(Share(period, n, _share(counts["yes"], n), _share(counts["no"], n),
                         _share(counts["abstain"], n), absent[period]))
    return out


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


@dataclass(frozen=True)
class Agreement:
    period: str
    joint: int
    identical: float | None
    agreement: float | None
    kappa: float | None


@dataclass(frozen=True)
class Pair:
    """One roll call both voted on: what each voted, and the roll call."""

    a: Any
    b: Any


def joint_votes(a: Sequence[Any], b: Sequence[Any]) -> list[Pair]:
    """The roll calls on which both cast a vote (yes, no or abstain), in date order."""
    theirs = {v.rc_key: v for v in b if v.vote in CAST_VOTES}
    return [Pair(v, theirs[v.rc_key]) for v in a if v.vote in CAST_VOTES and v.rc_key in theirs]


def measure(pairs: Sequence[Pair], period: str) -> Agreement:
    """The agreement figures of a set of joint votes."""
    n = len(pairs)
    if n == 0:
        return Agreement(period, 0, None, None, None)
    same = sum(1 for p in pairs if p.a.vote == p.b.vote)
    half = sum(1 for p in pairs if p.a.vote != p.b.vote and "abstain" in (p.a.vote, p.b.vote))
    observed = same / n
    mine, theirs = Counter(p.a.vote for p in pairs), Counter(p.b.vote for p in pairs)
    expected = sum((mine[k] / n) * (theirs[k] / n) for k in CAST_VOTES)
    kappa = None if expected >= 1.0 else (observed - expected) / (1.0 - expected)
    return Agreement(period, n, observed, (same + 0.5 * half) / n, kappa)


def agreement_by(pairs: Sequence[Pair], by: Period) -> list[Agreement]:
    """The agreement figures per period."""
    which = period_of(by)
    grouped: dict[str, list[Pair]] = {}
    for pair in pairs:
        grouped.setdefault(which(pair.a), []).append(pair)
    return [measure(grouped[p], p) for p in sorted(grouped, key=_order(by))]
