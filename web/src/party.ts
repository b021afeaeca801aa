// The party view: one lane per declaration with a coloured, patterned span for each stance over time, act
// and statement markers whose details (quotes, reasons, sources) open on click, and the summits on the same
// time axis. Below it, the party's whole record as a list, retracted acts struck through.

import { api, partyIndex } from "./api";
import {
  STANCE_TEXT,
  addDays,
  clear,
  dayToNumber,
  formatDay,
  h,
  keepingFocus,
  sourceLinks,
  stanceBadge,
  todayUtc,
} from "./dom";
import type { Alignment } from "./alignment";
import { PartyVotes } from "./party-votes";
import { entryItem, justBefore } from "./record";
import { type PageState, declarationHref, go, partyHref } from "./state";
import type { Entry, Party, Summit } from "./types";

const STANCE_KINDS = new Set(["signed", "declined", "withdrawn"]);

interface Lane {
  id: string | null; // declaration id; null for statements about no declaration
  title: string;
  entries: Entry[];
}

export class PartyView {
  readonly key: string;
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly votesSlot: HTMLElement;
  private readonly alignmentSlot: HTMLElement;
  private alignment: Alignment | null = null;
  private include: boolean;
  private other: string | null;
  private start = "";
  private titles = new Map<string, string>();
  private end = "";

  private constructor(private readonly party: Party, private readonly knownAt: string | null, state: PageState) {
    this.key = `party|${party.code}|${knownAt}`;
    this.include = state.include;
    this.other = state.with;
    this.votesSlot = h("div", { class: "votes-slot" });
    this.alignmentSlot = h("div", { class: "alignment-slot" });
    this.body = h("div", { class: "party-body" });
    this.detail = h("section", { class: "detail", id: "detail", tabindex: "-1", "aria-labelledby": "detail-title", hidden: true });
    const names = [party.official_name, ...party.aliases].filter(Boolean).join(" · ");
    this.element = h("section", { class: "view party-view", "aria-labelledby": "view-title", "data-party": party.code },
      h("div", { class: "view-head" },
        h("p", { class: "eyebrow" }, `Party · ${party.kind}`),
        h("h1", { id: "view-title" }, party.name, " ", h("span", { class: "code" }, party.code)),
        names ? h("p", { class: "meta" }, names) : null),
      this.body,
      this.detail,
      this.alignmentSlot,
      this.votesSlot);
  }

  static async open(state: PageState): Promise<PartyView | HTMLElement> {
    const parties = await partyIndex();
    const party = parties.get(state.party ?? "");
    if (!party) {
      return h("section", { class: "view", "aria-labelledby": "view-title" },
        h("h1", { id: "view-title" }, `No party “${state.party}”`),
        h("p", {}, "Parties are named by ISO 3166 codes (GB, US, FR) or an organisation's code (EU, AFRICAN_UNION). Try the search."));
    }
    const view = new PartyView(party, state.knownAt, state);
    await Promise.all([view.refresh(), view.showVotes(), view.showAlignment()]);
    return view;
  }

  /** The URL changed while this view is open: follow the predecessors toggle and the second party. */
  async update(state: PageState): Promise<void> {
    this.other = state.with;
    if (state.include !== this.include) {
      this.include = state.include;
      await Promise.all([this.showVotes(), this.showAlignment()]);
    } else {
      await this.alignment?.compareWith(state.with);
    }
  }

  private async showAlignment(): Promise<void> {
    // Observable Plot is most of the page's weight: loaded only when a party view opens (its own chunk).
    const [{ Alignment }, parties] = await Promise.all([import("./alignment"), partyIndex()]);
    const alignment = new Alignment(this.party, parties, this.include, this.knownAt, this.other);
    await alignment.show();
    this.alignment = alignment;
    clear(this.alignmentSlot);
    this.alignmentSlot.append(alignment.element);
  }

  private async showVotes(): Promise<void> {
    const names = new Map([...(await partyIndex())].map(([code, party]) => [code, party.name]));
    const votes = new PartyVotes(this.party, this.include, this.knownAt, names);
    await votes.show(0);
    const focused = this.votesSlot.contains(document.activeElement) ? document.activeElement?.id : null;
    clear(this.votesSlot);
    this.votesSlot.append(votes.element);
    if (focused) document.getElementById(focused)?.focus();
  }

  dispose(): void {}

  async refresh(): Promise<void> {
    const [history, summits, parties, declarations] = await Promise.all([
      api.history(this.party.code, this.knownAt), api.summits(), partyIndex(), api.declarations(this.knownAt),
    ]);
    const names = new Map([...parties].map(([code, party]) => [code, party.name]));
    const titles = new Map(declarations.map((d) => [d.id, d.title]));
    this.titles = titles;
    await keepingFocus(this.body, () => this.render(history.entries, summits, names, titles));
  }

  private render(entries: Entry[], summits: Summit[], names: Map<string, string>, titles: Map<string, string>): void {
    const today = todayUtc();
    const dates = [...entries.map((e) => e.effective_on), ...summits.map((s) => s.starts_on)].sort();
    this.start = `${(dates[0] ?? today).slice(0, 4)}-01-01`;
    this.end = addDays(today, 30);

    const lanes = new Map<string, Lane>();
    for (const entry of entries) {
      if (!entry.declaration_id && entry.kind !== "statement") continue;
      const key = entry.declaration_id ?? "";
      const lane = lanes.get(key) ?? { id: entry.declaration_id, title: titles.get(key) ?? key, entries: [] };
      lane.entries.push(entry);
      lanes.set(key, lane);
    }

    clear(this.body);
    const hosted = entries.filter((e) => e.kind === "hosted" && !e.retracted).length;
    const today_counts = new Map<string, number>();
    for (const lane of lanes.values()) {
      const stance = stanceAt(lane.entries, today);
      if (stance !== "none") today_counts.set(stance, (today_counts.get(stance) ?? 0) + 1);
    }
    const stances = [...today_counts].map(([stance, n]) => `${n} ${STANCE_TEXT[stance].word}`).join(", ") || "no stance";
    const said = entries.filter((e) => e.kind === "statement" && !e.retracted).length;
    this.body.append(h("p", { class: "summary" },
      `Today: ${stances} · ${said} statement${said === 1 ? "" : "s"} · hosted ${hosted} summit${hosted === 1 ? "" : "s"}`,
      ` · ${lanes.size} declaration${lanes.size === 1 ? "" : "s"} in this version of the record.`));

    const legendRow = h("ul", { class: "legend", "aria-label": "Legend" },
      ["signed", "declined", "withdrawn"].map((stance) => h("li", {}, stanceBadge(stance))),
      h("li", {}, h("span", { class: "marker-sample statement", "aria-hidden": "true" }, "◆"), " statement"),
      h("li", {}, h("span", { class: "marker-sample retracted", "aria-hidden": "true" }, "✕"), " retracted act"));

    const lanesList = h("ol", { class: "lanes", "aria-label": `Stances of ${this.party.name} over time` },
      this.summitLane(summits),
      [...lanes.values()].sort((a, b) => firstDay(a).localeCompare(firstDay(b)))
        .map((lane) => this.declarationLane(lane)));

    this.body.append(h("section", { class: "lanes-section", "aria-labelledby": "lanes-title" },
      h("h2", { id: "lanes-title" }, "Stances over time"),
      legendRow,
      h("div", { class: "lanes-frame" }, this.axis(), lanesList, this.axis(true))));

    this.body.append(h("section", { class: "history", "aria-labelledby": "history-title" },
      h("h2", { id: "history-title" }, `Everything ${this.party.name} did, said or hosted`),
      entries.length
        ? h("ol", { class: "entries" }, entries.map((entry) => entryItem(entry, names, { declaration: true, titles })))
        : h("p", { class: "muted" }, "Nothing in this version of the record.")));
  }

  private pct(day: string): number {
    const from = dayToNumber(this.start);
    const span = dayToNumber(this.end) - from;
    return Math.max(0, Math.min(100, ((dayToNumber(day) - from) / span) * 100));
  }

  private axis(bottom = false): HTMLElement {
    const ticks: HTMLElement[] = [];
    for (let year = Number(this.start.slice(0, 4)); `${year}-01-01` <= this.end; year += 1) {
      // --at places the year's mark; the stylesheet keeps its label on the axis (see .tick).
      ticks.push(h("span", { class: "tick", style: `--at:${this.pct(`${year}-01-01`)}` }, String(year)));
    }
    return h("div", { class: `axis${bottom ? " axis-bottom" : ""}`, "aria-hidden": "true" },
      h("span", { class: "lane-label" }), h("div", { class: "axis-track" }, ticks));
  }

  private summitLane(summits: Summit[]): HTMLElement {
    const track = h("div", { class: "lane-track summits-track" });
    summits.forEach((summit, i) => {
      const hosted = summit.hosts.includes(this.party.code);
      track.append(h("button", {
        type: "button", class: `marker summit${hosted ? " hosted" : ""}${i % 2 ? " low" : ""}`, "data-summit": summit.id,
        style: `left:${this.pct(summit.starts_on)}%`,
        "aria-label": `${summit.name}, ${place(summit)}, ${formatDay(summit.starts_on)}${hosted ? `, hosted by ${this.party.name}` : ""}`,
        onclick: () => this.showSummit(summit),
      }, h("span", { "aria-hidden": "true", class: "marker-glyph" }, "▲"),
      h("span", { class: "marker-text", "aria-hidden": "true" }, place(summit))));
    });
    return h("li", { class: "lane summits-lane" }, h("span", { class: "lane-label" }, "Summits"), track);
  }

  private declarationLane(lane: Lane): HTMLElement {
    const track = h("div", { class: "lane-track" });
    const acts = lane.entries.filter((e) => STANCE_KINDS.has(e.kind) && !e.retracted);
    const spoken: string[] = [];
    acts.forEach((act, i) => {
      const from = act.effective_on;
      const to = acts[i + 1]?.effective_on ?? this.end;
      const left = this.pct(from);
      const width = Math.max(0.6, this.pct(to) - left);
      track.append(h("div", {
        class: "span", "data-stance": act.kind, "data-from": from, "data-to": acts[i + 1]?.effective_on ?? "",
        style: `left:${left}%;width:${width}%`, "aria-hidden": "true",
      }, h("span", { class: "span-text" }, `${STANCE_TEXT[act.kind].symbol} ${STANCE_TEXT[act.kind].word}`)));
      spoken.push(`${STANCE_TEXT[act.kind].word} from ${formatDay(from)}${acts[i + 1] ? ` to ${formatDay(acts[i + 1].effective_on)}` : ""}`);
    });
    const said = new Map<string, Entry[]>();
    for (const entry of lane.entries) {
      if (STANCE_KINDS.has(entry.kind)) {
        track.append(h("button", {
          type: "button", class: `marker act${entry.retracted ? " retracted" : ""}`, "data-event-id": entry.event_id,
          "data-kind": entry.kind, "data-retracted": String(entry.retracted), style: `left:${this.pct(entry.effective_on)}%`,
          "aria-label": `${entry.retracted ? "Retracted: " : ""}${STANCE_TEXT[entry.kind].word} on ${formatDay(entry.occurred_on)} — sources`,
          onclick: () => this.showEntry(entry),
        }, h("span", { "aria-hidden": "true", class: "marker-glyph" }, entry.retracted ? "✕" : "│")));
      } else if (entry.kind === "statement") {
        said.set(entry.effective_on, [...(said.get(entry.effective_on) ?? []), entry]);
      }
    }
    for (const [day, statements] of said) {
      const who = [...new Set(statements.map((e) => e.speaker ?? this.party.name))].join("; ");
      const many = statements.length > 1;
      track.append(h("button", {
        type: "button", class: "marker statement", "data-kind": "statement", "data-day": day,
        "data-event-id": statements.map((e) => e.event_id).join(" "), style: `left:${this.pct(day)}%`,
        "aria-label": `${many ? `${statements.length} statements` : "Statement"} on ${formatDay(day)} by ${who} — read ${many ? "the quotes" : "the quote"}`,
        onclick: () => this.showStatements(statements),
      }, h("span", { "aria-hidden": "true", class: "marker-glyph" }, "◆"),
      many ? h("span", { class: "marker-count", "aria-hidden": "true" }, String(statements.length)) : null));
    }
    const label = lane.id
      ? h("a", { href: declarationHref(lane.id, acts.at(-1)?.effective_on ?? null), "data-nav": true, title: lane.title || lane.id }, shortTitle(lane))
      : "Statements on no declaration";
    return h("li", { class: "lane", "data-declaration": lane.id ?? "" },
      h("span", { class: "lane-label" }, label),
      track,
      h("p", { class: "sr-only" }, spoken.length ? `${spoken.join("; ")}.` : "No formal stance."));
  }

  private open(title: string, ...content: (Node | string | null)[]): void {
    clear(this.detail);
    this.detail.setAttribute("data-showing", `${title}|${Date.now()}`);
    this.detail.hidden = false;
    this.detail.append(
      h("div", { class: "detail-head" },
        h("h2", { id: "detail-title" }, title),
        h("button", { type: "button", class: "link-button", onclick: () => { this.detail.hidden = true; } }, "Close")),
      ...content.filter((c): c is Node | string => c !== null));
    this.detail.focus();
  }

  private showEntry(entry: Entry): void {
    const when = formatDay(entry.occurred_on) + (entry.precision !== "day" ? ` (${entry.precision})` : "");
    const about = entry.declaration_id
      ? h("p", {}, "On ", h("a", { href: declarationHref(entry.declaration_id, entry.effective_on), "data-nav": true }, this.titles.get(entry.declaration_id) ?? entry.declaration_id))
      : null;
    const retraction = entry.retracted && entry.retraction
      ? h("div", { class: "retraction-note" },
        h("p", {}, h("strong", {}, "Retracted"), `: ${entry.retraction.reason}`), sourceLinks(entry.retraction.sources),
        h("button", { type: "button", class: "link-button", onclick: () => go({ knownAt: justBefore(entry.retraction!.recorded_at) }) },
          "Show the record just before this correction"))
      : null;
    if (entry.kind === "statement") {
      this.showStatements([entry]);
    } else {
      this.open(`${this.party.name} ${STANCE_TEXT[entry.kind]?.word ?? entry.kind}, ${when}`,
        about, h("p", {}, stanceBadge(entry.kind), entry.previous ? ` (before: ${entry.previous})` : "",
          ` · ${entry.confidence} confidence`),
        entry.reason ? h("p", {}, `Reason: ${entry.reason}`) : null,
        entry.note ? h("p", { class: "muted" }, entry.note) : null,
        h("h3", {}, "Sources"), sourceLinks(entry.sources), retraction);
      if (entry.declaration_id) void this.explain(entry);
    }
  }

  /** "How the stance came about" (explain=true): the acts up to this one's date, and which of them count. */
  private async explain(entry: Entry): Promise<void> {
    const shown = this.detail.getAttribute("data-showing");
    let answer;
    try {
      answer = await api.explain(this.party.code, entry.declaration_id!, entry.effective_on, this.knownAt);
    } catch {
      return; // a server without explain=true: the panel is complete without it
    }
    const chain = answer.stances[0]?.explanation;
    if (!chain?.length || this.detail.hidden || this.detail.getAttribute("data-showing") !== shown) return;
    this.detail.append(h("section", { class: "explain", "aria-labelledby": "explain-title" },
      h("h3", { id: "explain-title" }, `How the stance on ${formatDay(entry.effective_on)} came about`),
      h("ol", {}, chain.map((act) => h("li", { "data-event-id": act.event_id, "data-counts": String(act.counts) },
        h("time", { datetime: act.occurred_on }, formatDay(act.occurred_on, true)), " ",
        act.counts ? stanceBadge(act.kind) : h("del", {}, act.kind),
        act.counts && act.stance_after ? h("span", { class: "muted" }, ` → ${STANCE_TEXT[act.stance_after]?.word ?? act.stance_after}`) : null,
        act.why_not ? h("span", { class: "muted" }, ` (does not count: ${act.why_not})`) : null)))));
  }

  private showStatements(statements: Entry[]): void {
    const first = statements[0];
    const when = formatDay(first.occurred_on) + (first.precision !== "day" ? ` (${first.precision})` : "");
    this.open(statements.length > 1 ? `${statements.length} statements, ${when}` : `${first.speaker ?? this.party.name}, ${when}`,
      first.declaration_id
        ? h("p", {}, "On ", h("a", { href: declarationHref(first.declaration_id, first.effective_on), "data-nav": true },
          this.titles.get(first.declaration_id) ?? first.declaration_id))
        : null,
      ...statements.map((entry) => h("figure", { class: `quote${entry.retracted ? " retracted" : ""}`, "data-event-id": entry.event_id },
        h("blockquote", {}, entry.retracted ? h("del", {}, entry.text ?? "") : entry.text ?? ""),
        h("figcaption", {}, `— ${entry.speaker ?? this.party.name}`, entry.position_on ? ` (${entry.position_on})` : "",
          ` · ${entry.confidence} confidence`, entry.retracted ? " · retracted" : ""),
        sourceLinks(entry.sources))));
  }

  private showSummit(summit: Summit): void {
    this.open(summit.name,
      h("p", {}, `${summit.city} · ${formatDay(summit.starts_on)}${summit.ends_on !== summit.starts_on ? ` to ${formatDay(summit.ends_on)}` : ""}`),
      h("p", {}, "Hosted by ", ...summit.hosts.map((code, i) => [i ? ", " : "",
        h("a", { href: partyHref(code), "data-nav": true }, code)]).flat()),
      summit.declarations.length
        ? h("ul", {}, summit.declarations.map((id) => h("li", {}, h("a", { href: declarationHref(id), "data-nav": true }, id))))
        : null,
      h("h3", {}, "Sources"), sourceLinks(summit.sources));
  }
}

/** A summit's place in a few words: "Bletchley Park", "Seoul", "New Delhi". */
function place(summit: Summit): string {
  return summit.city.split(/[,(]/)[0].trim();
}

function firstDay(lane: Lane): string {
  return lane.entries[0]?.effective_on ?? "";
}

function shortTitle(lane: Lane): string {
  const title = lane.title || lane.id || "";
  return title.length > 60 ? `${title.slice(0, 58)}…` : title;
}

function stanceAt(entries: Entry[], day: string): string {
  let stance = "none";
  for (const entry of entries) {
    if (STANCE_KINDS.has(entry.kind) && !entry.retracted && entry.effective_on <= day) stance = entry.kind;
  }
  return stance;
}
