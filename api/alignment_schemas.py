"""Answers about how states align in roll calls: vote shares, agreement, closest parties, the roll calls behind a
figure (the contract's section "Votes"; docs/votes.md, "How states align")."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from api.schemas import Public
from domain.values import Issue, Period, Vote

# Each definition once: the fields' descriptions below, and the routes' (docs/votes.md quotes the references).
JOINT = "The roll calls on which both cast a vote (yes, no or abstain); an absence is no vote"
IDENTICAL = "The share of the joint roll calls on which both voted the same; null when joint is 0"
AGREEMENT = ("The agreement index of Voeten's data set (Lijphart 1963; Bailey, Strezhnev and Voeten 2017): the same "
             "vote counts 1, an abstention against a yes or a no counts 1/2, a yes against a no 0, over the joint "
             "roll calls; null when joint is 0")
KAPPA = ("Cohen's kappa (Cohen 1960) over yes/no/abstain on the joint roll calls, as Häge (2011) proposes for "
         "foreign-policy similarity: (p_o - p_e) / (1 - p_e), p_o the identical share, p_e the agreement the two "
         "states' own shares of yes, no and abstain on those roll calls give by chance. 1: always the same; 0: no "
         "more than chance; below 0: less. Null when joint is 0, or when p_e is 1 (both cast the same one vote "
         "every time: chance explains it all, and kappa is undefined)")
PERIOD = "The year (`1995`), the session (`50`; `unknown` for roll calls without one) or the decade (`1990s`)"


Joint = Annotated[int, Field(description=JOINT)]
Identical = Annotated[float | None, Field(description=IDENTICAL)]
Agreement = Annotated[float | None, Field(description=AGREEMENT)]
Kappa = Annotated[float | None, Field(description=KAPPA)]


class Figures(Public):
    joint: Joint
    identical: Identical
    agreement: Agreement
    kappa: Kappa


class AgreementPeriod(Public):
    period: str = Field(description=PERIOD)
    joint: Joint
    identical: Identical
    agreement: Agreement
    kappa: Kappa


class AgreementPublic(Public):
    a: str
    b: str
    by: Period
    include: list[str]
    issue: Issue | None
    important: bool | None
    known_at: str
    periods: list[AgreementPeriod] = Field(
        description="Every period in which either cast a vote, in time order (joint 0 where only one did)")


class VoteSharePeriod(Public):
    period: str = Field(description=PERIOD)
    votes: int = Field(description="The votes cast: yes, no and abstain (absences are not votes)")
    yes: float = Field(description="The share of the votes cast that were yes (0-1)")
    no: float = Field(description="The share of the votes cast that were no (0-1)")
    abstain: float = Field(description="The share of the votes cast that were abstentions (0-1)")


class VoteSharePublic(Public):
    party: str
    by: Period
    include: list[str]
    issue: Issue | None
    important: bool | None
    known_at: str
    periods: list[VoteSharePeriod] = Field(description="Every period in which the party cast a vote, in time order")


class Neighbour(Public):
    party: str = Field(description="The other party, as it was recorded (the USSR is SUHH)")
    joint: Joint
    identical: Identical
    agreement: Agreement
    kappa: Kappa


class ClosestPublic(Public):
    party: str
    by: Period
    period: str = Field(description=PERIOD)
    include: list[str]
    issue: Issue | None
    important: bool | None
    known_at: str
    min_joint: int
    parties: list[Neighbour] = Field(
        description="Every other party with at least min_joint joint votes, closest first: by agreement, then "
                    "joint votes, then code; the last are the farthest")
    too_few: list[Neighbour] = Field(description="The parties with fewer joint votes than min_joint, ranked alike")


class SideVote(Public):
    vote: Vote
    as_party: str = Field(description="The party that cast it: the one asked for, or one of its predecessors")


class JointRollCall(Public):
    rollcall_id: str
    date: str
    session: int | None
    resolution: str | None
    title: str | None
    issues: list[Issue]
    important: bool | None
    a: SideVote
    b: SideVote
    agreement: float = Field(description="What this roll call adds to `agreement`: 1, 0.5 or 0")


class AgreementRollCallsPage(Public):
    a: str
    b: str
    by: Period
    period: str | None = Field(description=PERIOD + "; null: every period in from-to")
    include: list[str]
    issue: Issue | None
    important: bool | None
    known_at: str
    figures: Figures = Field(description="The figures over every roll call of the selection (all pages)")
    rollcalls: list[JointRollCall] = Field(description="The joint roll calls in date order")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")
