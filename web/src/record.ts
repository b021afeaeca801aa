// How one act of the record is shown wherever it appears: its date, who, what, its sources, and — when a
// retraction names it — struck through with the retraction's reason, time and sources.

import { STANCE_TEXT, formatDay, formatMoment, h, sourceLinks, stanceBadge } from "./dom";
import { declarationHref, go, partyHref } from "./state";
import type { Entry } from "./types";

/** The moment one microsecond before `iso`: known_at there still shows the act a retraction removed. */
export function justBefore(iso: string): string {
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso.trim());
  if (!match) return iso;
  const seconds = Date.parse(`${match[1]}${match[3] ?? "Z"}`);
  const micros = Number((match[2] ?? "").padEnd(6, "0").slice(0, 6));
  const total = seconds * 1000 + micros - 1;
  const whole = Math.floor(total / 1_000_000);
  const rest = String(total - whole * 1_000_000).padStart(6, "0");
  return `${new Date(whole * 1000).toISOString().slice(0, 19)}.${rest}Z`;
}

const KIND_WORD: Record<string, string> = {
  signed: "signed", declined: "declined", withdrawn: "withdrew from", statement: "said", hosted: "hosted",
  published: "published",
};

export function kindLabel(entry: Entry): HTMLElement {
  if (entry.kind in STANCE_TEXT) return stanceBadge(entry.kind);
  return h("span", { class: "badge", "data-kind": entry.kind }, entry.kind);
}

interface Options {
  party?: boolean; // name the party (in a declaration's record)
  declaration?: boolean; // name the declaration (in a party's record)
  titles?: Map<string, string>; // declaration titles by id
}

/** One act as a list item: data-event-id, data-kind and data-retracted let tests and styles find it. */
export function entryItem(entry: Entry, names: Map<string, string>, options: Options = {}): HTMLLIElement {
  const who = entry.party ?? null;
  const what: (Node | string)[] = [];
  if (options.party && who) {
    what.push(h("a", { href: partyHref(who), "data-nav": true }, names.get(who) ?? who), " ");
  }
  if (entry.kind === "statement") {
    what.push(h("span", { class: "speaker" }, entry.speaker ?? "A statement"), ": ",
      h("q", {}, entry.text ?? ""));
    if (entry.position_on) what.push(" ", h("span", { class: "muted" }, `(${entry.position_on})`));
  } else if (entry.kind === "hosted") {
    what.push("hosted ", h("strong", {}, entry.title ?? entry.summit_id ?? "a summit"));
  } else {
    what.push(kindLabel(entry));
    if (entry.previous) what.push(" ", h("span", { class: "muted" }, `(was ${entry.previous})`));
  }
  if (options.declaration && entry.declaration_id) {
    what.push(" ", entry.kind === "statement" ? "on " : "",
      h("a", { href: declarationHref(entry.declaration_id, entry.effective_on), "data-nav": true },
        options.titles?.get(entry.declaration_id) ?? entry.title ?? entry.declaration_id));
  }
  if (entry.reason) what.push(h("span", { class: "reason" }, ` — ${entry.reason}`));

  const body = h("span", { class: "entry-body" }, ...what);
  const date = h("time", { datetime: entry.occurred_on, class: "entry-date" },
    formatDay(entry.occurred_on, true), entry.precision !== "day" ? ` (${entry.precision})` : "");
  const item = h("li", {
    class: `entry${entry.retracted ? " retracted" : ""}`, "data-event-id": entry.event_id, "data-kind": entry.kind,
    "data-party": who ?? "", "data-declaration": entry.declaration_id ?? "", "data-retracted": String(entry.retracted),
  });
  if (entry.retracted) {
    item.append(h("del", {}, date, " ", body), h("span", { class: "sr-only" }, " (retracted)"));
  } else {
    item.append(date, " ", body);
  }
  item.append(h("span", { class: "entry-meta" },
    h("span", { class: "muted" }, `${entry.confidence} confidence · #${entry.position}`), sourceLinks(entry.sources)));
  if (entry.retraction && entry.retracted) item.append(retractionNote(entry));
  return item;
}

function retractionNote(entry: Entry): HTMLElement {
  const retraction = entry.retraction!;
  return h("div", { class: "retraction-note" },
    h("p", {}, h("strong", {}, "Retracted"), ` on ${formatMoment(retraction.recorded_at)}: ${retraction.reason}`),
    sourceLinks(retraction.sources),
    h("button", {
      type: "button", class: "link-button",
      onclick: () => go({ knownAt: justBefore(retraction.recorded_at) }),
    }, "Show the record just before this correction"));
}

export function describeKind(kind: string): string {
  return KIND_WORD[kind] ?? kind;
}
