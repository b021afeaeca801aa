// The page's state lives in the URL, so every view can be shared as a link:
//   /?declaration=paris-statement&at=2025-02-12&known_at=2026-01-01T00:00:00Z
//   /?party=GB&known_at=2026-01-01
// `at` is valid time (a date), `known_at` transaction time ("as recorded on"); both are the API's parameters.

export interface PageState {
  declaration: string | null;
  party: string | null;
  at: string | null;
  knownAt: string | null;
}

type Listener = (state: PageState) => void;
const listeners: Listener[] = [];

export function readState(): PageState {
  const q = new URLSearchParams(location.search);
  const get = (name: string) => (q.get(name) || "").trim() || null;
  return { declaration: get("declaration"), party: get("party")?.toUpperCase() ?? null, at: get("at"), knownAt: get("known_at") };
}

export function href(state: PageState): string {
  const q = new URLSearchParams();
  if (state.party) q.set("party", state.party);
  else if (state.declaration) q.set("declaration", state.declaration);
  if (state.at && !state.party) q.set("at", state.at);
  if (state.knownAt) q.set("known_at", state.knownAt);
  const query = q.toString();
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

/** The link to a party's view or a declaration's view, keeping the record's version (known_at). */
export function partyHref(code: string): string {
  return href({ party: code, declaration: null, at: null, knownAt: readState().knownAt });
}

export function declarationHref(id: string, at: string | null = null): string {
  return href({ declaration: id, party: null, at, knownAt: readState().knownAt });
}

export function installNavigation(): void {
  window.addEventListener("popstate", () => {
    const state = readState();
    for (const listener of listeners) listener(state);
  });
  // Same-page links (a[data-nav]) change the view without a reload; a modified click still opens a new tab.
  document.addEventListener("click", (event) => {
    const link = (event.target as Element | null)?.closest?.("a[data-nav]") as HTMLAnchorElement | null;
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.href);
    if (url.origin !== location.origin) return;
    event.preventDefault();
    history.pushState(null, "", url.pathname + url.search);
    const state = readState();
    for (const listener of listeners) listener(state);
    document.getElementById("main")?.focus({ preventScroll: false });
  });
}
