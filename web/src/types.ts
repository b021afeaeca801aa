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
