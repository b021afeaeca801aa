// Search for parties and declarations by name or code, and roll calls by resolution symbol or words of the
// title (GET /v1/rollcalls?q=): an ARIA combobox whose list holds links, so a result can be opened with Enter,
// a click, or in a new tab.

import { api } from "./api";
import { clear, formatDay, h } from "./dom";
import { declarationHref, go, parseState, partyHref, readState, rollcallHref, rollcallsHref } from "./state";
import { rollcallName } from "./vote";

interface Hit {
  label: string;
  detail: string;
  href: string;
  score: number;
}

const LIMIT = 12;
const ROLLCALLS = 5; // roll calls shown in the list; the last hit opens all of them in the roll-call list
const MIN_ROLLCALL_QUERY = 2;
let asking: AbortController | null = null;

export function installSearch(): void {
  const input = document.getElementById("search") as HTMLInputElement;
  const list = document.getElementById("search-results") as HTMLUListElement;
  const status = document.getElementById("search-status") as HTMLElement;
  let hits: Hit[] = [];
  let active = -1;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const highlight = (index: number) => {
    active = index;
    [...list.children].forEach((child, i) => child.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", `search-hit-${index}`);
      list.children[index]?.scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  };

  const open = (hit: Hit) => {
    close();
    input.value = "";
    go(parseState(new URL(hit.href, location.origin).search));
    document.getElementById("main")?.focus();
  };

  const run = async () => {
    const needle = input.value.trim().toLowerCase();
    if (!needle) {
      close();
      status.textContent = "";
      return;
    }
    const found = await find(needle);
    if (found === null) return; // a later query replaced this one
    hits = found;
    if (input.value.trim().toLowerCase() !== needle) return; // typed on meanwhile
    clear(list);
    hits.forEach((hit, i) => list.append(h("li", { id: `search-hit-${i}`, role: "option", "aria-selected": "false" },
      h("a", { href: hit.href, tabindex: "-1", onclick: (event: Event) => { event.preventDefault(); open(hit); } },
        h("span", { class: "hit-label" }, hit.label), " ", h("span", { class: "hit-detail" }, hit.detail)))));
    if (!hits.length) list.append(h("li", { class: "no-hit", role: "option", "aria-disabled": "true" }, "No party, declaration or roll call matches."));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(-1);
    status.textContent = hits.length ? `${hits.length} matches; use the arrow keys to choose, Enter to open.` : "No matches.";
  };

  input.addEventListener("input", () => void run());
  input.addEventListener("focus", () => { if (input.value.trim()) void run(); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && hits.length) {
      event.preventDefault();
      if (list.hidden) void run();
      highlight((active + 1) % hits.length);
    } else if (event.key === "ArrowUp" && hits.length) {
      event.preventDefault();
      highlight(active <= 0 ? hits.length - 1 : active - 1);
    } else if (event.key === "Enter") {
      const hit = hits[active >= 0 ? active : 0];
      if (hit && !list.hidden) {
        event.preventDefault();
        open(hit);
      }
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => window.setTimeout(() => { if (document.activeElement !== input) close(); }, 150));
}

async function find(needle: string): Promise<Hit[] | null> {
  const knownAt = readState().knownAt;
  const [parties, declarations, rollcalls] = await Promise.all([api.parties(), api.declarations(knownAt), findRollCalls(needle, knownAt)]);
  if (rollcalls === null) return null;
  const found: Hit[] = [];
  for (const party of parties) {
    const score = match(needle, party.code, [party.name, party.official_name ?? "", ...party.aliases]);
    if (score) found.push({ label: party.name, detail: `party · ${party.code} · ${party.kind}`, href: partyHref(party.code), score });
  }
  for (const declaration of declarations) {
    const score = match(needle, declaration.id, [declaration.title, declaration.summit?.name ?? ""]);
    if (score) {
      found.push({ label: declaration.title, detail: `declaration · ${declaration.id} · ${declaration.published_on.slice(0, 4)}`,
        href: declarationHref(declaration.id), score: score + 0.5 });
    }
  }
  const local = found.sort((a, b) => b.score - a.score || a.label.localeCompare(b.label))
    .slice(0, LIMIT - Math.min(rollcalls.length, ROLLCALLS + 1));
  return [...local, ...rollcalls];
}

/** Roll calls whose resolution symbol, title or description holds the words; null if a later query replaced it. */
async function findRollCalls(needle: string, knownAt: string | null): Promise<Hit[] | null> {
  asking?.abort();
  if (needle.length < MIN_ROLLCALL_QUERY) return [];
  const mine = new AbortController();
  asking = mine;
  try {
    const page = await api.rollcalls({ q: needle, knownAt, limit: ROLLCALLS }, mine.signal);
    const hits = page.rollcalls.map((call) => ({
      label: rollcallName(call),
      detail: `roll call · ${formatDay(call.date, true)} · ${call.tally.yes}–${call.tally.no}–${call.tally.abstain}`,
      href: rollcallHref(call.id), score: 0,
    }));
    if (page.next_cursor) {
      hits.push({ label: `Every roll call matching “${needle}”`, detail: "roll calls · list", href: rollcallsHref({ q: needle }), score: 0 });
    }
    return hits;
  } catch {
    if (mine.signal.aborted) return null;
    return []; // the roll calls are a part of the answer: parties and declarations still show
  }
}

/** How well `needle` matches: the code itself first, then the name, then other names, then the code's start. */
function match(needle: string, code: string, names: string[]): number {
  if (code.toLowerCase() === needle) return 5;
  const [name, ...others] = names.map((n) => n.toLowerCase());
  const starts = (text: string) => text.startsWith(needle) || text.split(/[\s(-]+/).some((word) => word.startsWith(needle));
  if (name.startsWith(needle)) return 4;
  if (starts(name)) return 3.5;
  if (others.filter(Boolean).some(starts)) return 3;
  if (code.toLowerCase().startsWith(needle)) return 2;
  if ([name, ...others].some((n) => n.includes(needle)) || code.toLowerCase().includes(needle)) return 1;
  return 0;
}
