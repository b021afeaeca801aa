// The shapes of the API's answers that the page reads (a subset of api/schemas.py).

export type Stance = "signed" | "declined" | "withdrawn" | "none";
export const STANCES: Stance[] = ["signed", "declined", "withdrawn", "none"];

export interface Source {
  title: string;
  url: string;
  outlet: string | null;
  published_on: string | null;
}

export interface Party {
  code: string;
  name: string;
  kind: string;
  official_name: string | null;
  aliases: string[];
}

export interface Declaration {
  id: string;
  title: string;
  summit: { id: string; name: string } | null;
  published_on: string;
  notes: string | null;
  confidence: string;
  sources: Source[];
  counts: Record<string, number>;
}

export interface Summit {
  id: string;
  name: string;
  hosts: string[];
  city: string;
  starts_on: string;
  ends_on: string;
  sources: Source[];
  declarations: string[];
}

export interface Signatory {
  party: string;
  since: string;
  precision: string;
  approximate: boolean;
  confidence: string;
  event_id: string;
  position: number;
  sources: Source[];
}

export interface Signatories {
  declaration_id: string;
  at: string;
  known_at: string;
  signed: Signatory[];
  declined: Signatory[];
  withdrawn: Signatory[];
}

export interface Retraction {
  event_id: string;
  position: number;
  recorded_at: string;
  reason: string;
  sources: Source[];
}

/** One entry of a party's history, or one item of the timeline (which also names the party). */
export interface Entry {
  occurred_on: string;
  effective_on: string;
  precision: string;
  approximate: boolean;
  kind: string;
  declaration_id: string | null;
  summit_id: string | null;
  title: string | null;
  stance: string | null;
  previous: string | null;
  speaker: string | null;
  text: string | null;
  position_on: string | null;
  reason: string | null;
  note: string | null;
  confidence: string;
  event_id: string;
  position: number;
  recorded_at: string;
  sources: Source[];
  retracted: boolean;
  retraction: Retraction | null;
  party?: string | null;
  hosts?: string[] | null;
}

export interface History {
  party: string;
  known_at: string;
  entries: Entry[];
}

export interface TimelinePage {
  items: Entry[];
  next_cursor: string | null;
}

/** One message of GET /v1/events/stream (and one item of GET /v1/events). */
export interface LogEvent {
  position: number;
  event_id: string;
  kind: string;
  occurred_on: string | null;
  /** Known only to its month or year (data.precision): occurred_on is the period's first day. */
  approximate: boolean;
  recorded_at: string;
  data: Record<string, unknown>;
}

/** One frame of GET /v1/replay: the record at the end of one calendar period. */
export interface ReplayFrame {
  frame: number;
  period: string;
  starts_on: string;
  at: string;
  changes: { party: string; declaration_id: string; stance: string; previous: string; since: string | null }[];
  events: Entry[];
}

export interface Replay {
  from: string;
  to: string;
  step: string;
  frames: ReplayFrame[];
}

/** One act in the chain that produced a stance (explain=true). */
export interface ExplainedAct {
  event_id: string;
  kind: string;
  occurred_on: string;
  effective_on: string;
  confidence: string;
  retracted: boolean;
  counts: boolean;
  why_not: string | null;
  stance_after: string | null;
}

export interface Stances {
  party: string;
  at: string;
  known_at: string;
  stances: { declaration_id: string; stance: string; since: string | null; explanation?: ExplainedAct[] | null }[];
}
