// The shapes of the API's answers that the page reads, named as the page names them. They are generated from
// /openapi.json (`npm run types` writes src/generated/api.ts from openapi.json, which `python -m api.openapi`
// writes), never written by hand: a change to the API that the page does not follow breaks `tsc`, not a user.

import type { components } from "./generated/api";

type Schemas = components["schemas"];

export type Stance = Schemas["Stance"];
export const STANCES: Stance[] = ["signed", "declined", "withdrawn", "none"];

export type Source = Schemas["SourceOut"];
export type Party = Schemas["PartyPublic"];
export type Declaration = Schemas["DeclarationPublic"];
export type Summit = Schemas["SummitPublic"];
export type Signatory = Schemas["SignatoryItem"];
export type Signatories = Schemas["SignatoriesPublic"];
export type Retraction = Schemas["Retraction"];

/** One entry of a party's history, or one item of the timeline (which also names the party). */
export type Entry = Schemas["HistoryEntry"] & Partial<Pick<Schemas["TimelineItem"], "party" | "hosts">>;
export type History = Schemas["HistoryPublic"];
export type TimelinePage = Schemas["TimelinePage"];

/** One message of GET /v1/events/stream (and one item of GET /v1/events). */
export type LogEvent = Schemas["EventPublic"];

/** One frame of GET /v1/replay: the record at the end of one calendar period. */
export type ReplayFrame = Schemas["ReplayFrame"];
export type Replay = Schemas["ReplayPublic"];

/** One act in the chain that produced a stance (explain=true). */
export type ExplainedAct = Schemas["ExplainedAct"];
export type Stances = Schemas["StancesPublic"];

/** The General Assembly's roll calls and a party's votes (the contract's section "Votes"). */
export type Vote = Schemas["Vote"];
export type Issue = Schemas["Issue"];
export type RollCall = Schemas["RollCallPublic"];
export type RollCallSummary = Schemas["RollCallSummary"];
export type RollCallsPage = Schemas["RollCallsPage"];
export type CastVote = Schemas["VoteOut"];
export type PartyVote = Schemas["PartyVote"];
export type PartyVotesPage = Schemas["PartyVotesPage"];
export type Releases = Schemas["ReleasesPublic"];

/** The issue codes' names, as domain/values.py ISSUE_NAMES gives them (tests/web checks they agree); typed by the
 *  generated `Issue`, so an issue added to the API that the page does not name breaks `tsc`. */
export const ISSUE_NAMES: Record<Issue, string> = {
  me: "Palestinian conflict",
  nu: "Nuclear weapons and nuclear material",
  di: "Arms control and disarmament",
  hr: "Human rights",
  co: "Colonialism",
  ec: "Economic development",
};
export const ISSUES = Object.keys(ISSUE_NAMES) as Issue[];

/** How states align (GET /v1/parties/{code}/vote-share, GET /v1/agreement and the roll calls behind a figure,
 *  GET /v1/agreement/rollcalls). */
export type Period = Schemas["Period"];
export type VoteSharePeriod = Schemas["VoteSharePeriod"];
export type VoteShare = Schemas["VoteSharePublic"];
export type AgreementPeriod = Schemas["AgreementPeriod"];
export type Agreement = Schemas["AgreementPublic"];
export type Figures = Schemas["Figures"];
export type JointRollCall = Schemas["JointRollCall"];
export type AgreementRollCallsPage = Schemas["AgreementRollCallsPage"];
