// The page's state lives in the URL, so every view can be shared as a link:
//   /?declaration=paris-statement&at=2025-02-12&known_at=2026-01-01T00:00:00Z
//   /?party=RU&include=predecessors&with=US&known_at=2026-01-01
//   /?rollcall=unga-1190
//   /?rollcalls&q=china&from=1971-01-01&to=1971-12-31&issue=hr&a=US&b=RU
//   /?agreement&a=RU&b=US&by=year&period=1970&include=predecessors   (the roll calls behind an agreement figure)
// `at` is valid time (a date), `known_at` transaction time ("as recorded on"); both are the API's parameters.

/** The roll-call list's filters; with `a` (and `b`) it lists those parties' votes on each roll call. */
export interface RollCallFilter {
  q: string | null;
  from: string | null;
  to: string | null;
  issue: string | null;
  a: string | null;
  b: string | null;
}

/** One figure of GET /v1/agreement: a pair and one period of `by`, whose roll calls the agreement view lists. */
export interface AgreementFilter {
  a: string | null;
  b: string | null;
  by: string;
  period: string | null;
}

export interface PageState {
  declaration: string | null;
  party: string | null;
  rollcall: string | null;
  rollcalls: RollCallFilter | null; // the roll-call list, when set
  agreement: AgreementFilter | null; // the roll calls behind an agreement figure, when set
  at: string | null;
  knownAt: string | null;
  include: boolean; // per-party reads of votes follow the party through its predecessors
  with: string | null; // the party view's second party, for the agreement chart
}

export type ViewName = "rollcall" | "rollcalls" | "agreement" | "party" | "declaration";

type Listener = (state: PageState) => void;
const listeners: Listener[] = [];

/** The view a state opens: a roll call, then the list, then an agreement figure's roll calls, then a party, then a
 *  declaration. */
export function viewOf(state: PageState): ViewName {
  if (state.rollcall) return "rollcall";
  if (state.rollcalls) return "rollcalls";
  if (state.agreement) return "agreement";
  if (state.party) return "party";
  return "declaration";
}

export function parseState(search: string): PageState {
  const q = new URLSearchParams(search);
  const get = (name: string) => (q.get(name) || "").trim() || null;
  const code = (name: string) => get(name)?.toUpperCase() ?? null;
  return {
    declaration: get("declaration"), party: code("party"), rollcall: get("rollcall"),
    rollcalls: q.has("rollcalls")
      ? { q: get("q"), from: get("from"), to: get("to"), issue: get("issue"), a: code("a"), b: code("b") }
      : null,
    agreement: q.has("agreement")
      ? { a: code("a"), b: code("b"), by: get("by") ?? "year", period: get("period") }
      : null,
    at: get("at"), knownAt: get("known_at"), include: get("include") === "predecessors", with: code("with"),
  };
}

export function readState(): PageState {
  return parseState(location.search);
}

export function href(state: PageState): string {
  const q = new URLSearchParams();
  const view = viewOf(state);
  if (view === "rollcall") q.set("rollcall", state.rollcall!);
  else if (view === "rollcalls") {
    q.set("rollcalls", "");
    for (const [key, value] of Object.entries(state.rollcalls!)) if (value) q.set(key, value);
  } else if (view === "agreement") {
    q.set("agreement", "");
    for (const [key, value] of Object.entries(state.agreement!)) if (value) q.set(key, value);
  } else if (view === "party") {
    q.set("party", state.party!);
    if (state.with) q.set("with", state.with);
  } else if (state.declaration) q.set("declaration", state.declaration);
  if (state.at && view === "declaration") q.set("at", state.at);
  if (state.include && view !== "declaration" && view !== "rollcall") q.set("include", "predecessors");
  if (state.knownAt) q.set("known_at", state.knownAt);
  const query = q.toString().replace(/^(rollcalls|agreement)=(&|$)/, "$1$2");
  return query ? `/?${query}` : "/";
}

/** Moves to a new state: a new history entry for a new view, a replaced one for a slider's step. */
export function go(changes: Partial<PageState>, options: { replace?: boolean; silent?: boolean } = {}): void {
  const next = { ...readState(), ...changes };
  const url = href(next);
  if (url !== location.pathname + location.search) {
    if (options.replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
  }
  if (!options.silent) for (const listener of listeners) listener(next);
}

export function onStateChange(listener: Listener): void {
  listeners.push(listener);
}

const NO_VIEW = {
  declaration: null, party: null, rollcall: null, rollcalls: null, agreement: null, at: null, include: false, with: null,
};

/** The link to a party's view (and its second party, `with`) or a declaration's view, keeping the record's version
 *  (known_at). */
export function partyHref(code: string, include = false, other: string | null = null): string {
  return href({ ...NO_VIEW, party: code, include, with: other, knownAt: readState().knownAt });
}

export function declarationHref(id: string, at: string | null = null): string {
  return href({ ...NO_VIEW, declaration: id, at, knownAt: readState().knownAt });
}

export function rollcallHref(id: string): string {
  return href({ ...NO_VIEW, rollcall: id, knownAt: readState().knownAt });
}

export function rollcallsHref(filter: Partial<RollCallFilter>, include = false): string {
  const rollcalls = { q: null, from: null, to: null, issue: null, a: null, b: null, ...filter };
  return href({ ...NO_VIEW, rollcalls, include, knownAt: readState().knownAt });
}

/** The link to the roll calls behind one agreement figure (GET /v1/agreement/rollcalls). */
export function agreementHref(filter: AgreementFilter, include = false): string {
  return href({ ...NO_VIEW, agreement: filter, include, knownAt: readState().knownAt });
}

export function installNavigation(): void {
  window.addEventListener("popstate", () => {
    const state = readState();
    for (const listener of listeners) listener(state);
  });
  // Same-page links (a[data-nav]) change the view without a reload; a modified click still opens a new tab.
  document.addEventListener("click", (event) => {
    // An <a> of HTML or of SVG (a chart's point): read its href as an attribute, which both have.
    const link = (event.target as Element | null)?.closest?.("a[data-nav]") ?? null;
    const target = link?.getAttribute("href");
    if (!link || !target || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(target, location.href);
    if (url.origin !== location.origin) return;
    event.preventDefault();
    history.pushState(null, "", url.pathname + url.search);
    const state = readState();
    for (const listener of listeners) listener(state);
    document.getElementById("main")?.focus({ preventScroll: false });
  });
}
