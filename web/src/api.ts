// Reads from the API on the same origin. Every read passes known_at when the page has one.

import type {
  Agreement,
  AgreementRollCallsPage,
  Declaration,
  History,
  Party,
  PartyVotesPage,
  Releases,
  Replay,
  RollCall,
  RollCallsPage,
  Signatories,
  Stances,
  Summit,
  TimelinePage,
  VoteShare,
} from "./types";

/** The filters of GET /v1/rollcalls and GET /v1/parties/{code}/votes, as the page passes them. */
export interface VoteQuery {
  q?: string | null;
  from?: string | null;
  to?: string | null;
  issue?: string | null;
  vote?: string | null;
  include?: boolean;
  knownAt: string | null;
  limit?: number;
  cursor?: string | null;
}

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

type Params = Record<string, string | string[] | number | null | undefined>;

const TOKEN_KEY = "diplo-read-token";

/** On a server with DIPLO_READ_TOKENS, the page asks for a token once and keeps it for the tab. */
export function readToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setReadToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function url(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) q.append(key, String(one));
  }
  const query = q.toString();
  return query ? `${path}?${query}` : path;
}

// A 503 means "the store is busy or catching up; try again shortly": the page does, a few times, then says so.
const RETRY_DELAYS_MS = [100, 250, 600, 1200];

export async function get<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  const token = readToken();
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(url(path, params), {
      headers: { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      signal,
    });
    if (response.status === 503 && attempt < RETRY_DELAYS_MS.length) {
      const asked = Number(response.headers.get("Retry-After")) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.min(asked || RETRY_DELAYS_MS[attempt], 2000)));
      continue;
    }
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const problem = await response.json();
        detail = problem.detail || problem.title || detail;
      } catch {
        /* not a problem document */
      }
      throw new ApiError(response.status, detail);
    }
    return (await response.json()) as T;
  }
}

// The registry and the catalogue change rarely; they are read once per version of the record.
const cache = new Map<string, Promise<unknown>>();

function once<T>(key: string, load: () => Promise<T>): Promise<T> {
  let found = cache.get(key) as Promise<T> | undefined;
  if (!found) {
    found = load();
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  return found;
}

export function forgetCatalogue(): void {
  cache.clear();
}

export const api = {
  parties: () => once("parties", () => get<Party[]>("/v1/parties")),
  declarations: (knownAt: string | null) =>
    once(`declarations|${knownAt}`, () => get<Declaration[]>("/v1/declarations", { known_at: knownAt })),
  summits: () => once("summits", () => get<Summit[]>("/v1/summits")),
  declaration: (id: string, at: string | null, knownAt: string | null) =>
    get<Declaration>(`/v1/declarations/${encodeURIComponent(id)}`, { at, known_at: knownAt }),
  signatories: (id: string, at: string, knownAt: string | null, signal?: AbortSignal) =>
    get<Signatories>(`/v1/declarations/${encodeURIComponent(id)}/signatories`, { at, known_at: knownAt }, signal),
  // The party view's lanes show acts, statements and summits; a state's thousands of votes have views of their own.
  history: (code: string, knownAt: string | null) =>
    get<History>(`/v1/parties/${encodeURIComponent(code)}/history`, {
      known_at: knownAt, kind: ["hosted", "published", "signed", "declined", "withdrawn", "statement"],
    }),
  acts: (declaration: string, knownAt: string | null) =>
    get<TimelinePage>("/v1/timeline", {
      declaration, known_at: knownAt, kind: ["signed", "declined", "withdrawn"], limit: 1000,
    }),
  replay: (declaration: string, from: string, to: string, step: string, knownAt: string | null) =>
    get<Replay>("/v1/replay", { declaration, from, to, step, known_at: knownAt }),
  explain: (code: string, declaration: string, at: string, knownAt: string | null) =>
    get<Stances>(`/v1/parties/${encodeURIComponent(code)}/stances`, { declaration, at, known_at: knownAt, explain: "true" }),
  health: () => get<{ head?: number | null }>("/healthz"),
  rollcalls: (query: VoteQuery, signal?: AbortSignal) =>
    get<RollCallsPage>("/v1/rollcalls", {
      q: query.q, from: query.from, to: query.to, issue: query.issue, known_at: query.knownAt, limit: query.limit,
      cursor: query.cursor,
    }, signal),
  rollcall: (id: string, knownAt: string | null) =>
    get<RollCall>(`/v1/rollcalls/${encodeURIComponent(id)}`, { known_at: knownAt }),
  partyVotes: (code: string, query: VoteQuery) =>
    get<PartyVotesPage>(`/v1/parties/${encodeURIComponent(code)}/votes`, {
      from: query.from, to: query.to, issue: query.issue, vote: query.vote, include: query.include ? "predecessors" : null,
      known_at: query.knownAt, limit: query.limit, cursor: query.cursor,
    }),
  voteShare: (code: string, query: VoteQuery) =>
    get<VoteShare>(`/v1/parties/${encodeURIComponent(code)}/vote-share`, {
      by: "year", issue: query.issue, include: query.include ? "predecessors" : null, known_at: query.knownAt,
    }),
  agreement: (a: string, b: string, query: VoteQuery) =>
    get<Agreement>("/v1/agreement", { a, b, by: "year", include: query.include ? "predecessors" : null, known_at: query.knownAt }),
  agreementRollcalls: (a: string, b: string, by: string, period: string | null, query: VoteQuery) =>
    get<AgreementRollCallsPage>("/v1/agreement/rollcalls", {
      a, b, by, period, include: query.include ? "predecessors" : null, known_at: query.knownAt, limit: query.limit,
      cursor: query.cursor,
    }),
  // Releases are few and change only when one is loaded: read once per page.
  releases: () => once("releases", () => get<Releases>("/v1/releases")),
};

/** A map from party code to party, for names. */
export async function partyIndex(): Promise<Map<string, Party>> {
  return new Map((await api.parties()).map((p) => [p.code, p]));
}
