// The roll-call view: one recorded vote of the General Assembly on a text. The world map coloured by each
// party's vote, the tally beside it, the parties the map cannot show (former states such as the USSR, SUHH),
// the resolution, date, title and issues, and every vote in a table that links to each party. Read as the
// record stood at known_at, with a button for each release of the roll call's data set.

import { ApiError, api, partyIndex } from "./api";
import { clear, formatDay, formatMoment, h, sourceLinks } from "./dom";
import { WorldMap, type Painted } from "./map";
import { type PageState, go, partyHref, rollcallsHref } from "./state";
import type { Party, RollCall } from "./types";
import { VOTE_ORDER, VOTE_TEXT, issueName, rollcallName, voteBadge } from "./vote";

const TALLIED = ["yes", "no", "abstain", "absent"] as const;

export class RollCallView {
  readonly key: string;
  readonly element: HTMLElement;
  private readonly map: WorldMap;
  private readonly body: HTMLElement;

  private constructor(private readonly id: string, private readonly knownAt: string | null, private readonly parties: Map<string, Party>) {
    this.key = `rollcall|${id}|${knownAt}`;
    this.map = new WorldMap("map-caption", (code) => go({ rollcall: null, party: code }), "vote");
    this.body = h("div", { class: "rollcall-body" });
    this.element = h("section", { class: "view rollcall-view", "aria-labelledby": "view-title", "data-rollcall": id }, this.body);
  }

  static async open(state: PageState): Promise<RollCallView | HTMLElement> {
    const id = state.rollcall ?? "";
    const [parties, call] = await Promise.all([partyIndex(), readRollCall(id, state.knownAt)]);
    if (!call) return notRecorded(id, state.knownAt);
    const view = new RollCallView(id, state.knownAt, parties);
    await view.render(call);
    return view;
  }

  async update(): Promise<void> {
    /* the roll call and known_at make the view's key: nothing else to follow */
  }

  async refresh(): Promise<void> {
    const call = await readRollCall(this.id, this.knownAt);
    if (call) await this.render(call);
  }

  dispose(): void {}

  private name(code: string): string {
    return this.parties.get(code)?.name ?? code;
  }

  private async render(call: RollCall): Promise<void> {
    const names = new Map([...this.parties].map(([code, party]) => [code, party.name]));
    const painted = new Map<string, Painted>(call.votes.map((v) => [v.party, { value: v.vote, text: VOTE_TEXT[v.vote].word }]));
    const offMap = await this.map.paint(painted, names, `: ${VOTE_TEXT.none.word}`, call.date);
    const byParty = new Map(call.votes.map((v) => [v.party, v]));
    const tally = TALLIED.map((vote) => `${call.tally[vote]} ${VOTE_TEXT[vote].word}`).join(", ");
    const dataset = call.release?.split("/")[0] ?? null;

    const releases = dataset ? await this.releaseButtons(dataset) : null;
    clear(this.body);
    this.body.append(
      h("div", { class: "view-head" },
        h("p", { class: "eyebrow" }, `Roll call · ${call.body}${call.session ? ` · session ${call.session}` : ""} · ${call.id}`),
        h("h1", { id: "view-title" }, rollcallName(call)),
        h("p", { class: "meta" },
          h("time", { datetime: call.date }, formatDay(call.date)),
          call.precision !== "day" ? ` (${call.precision})` : "",
          call.resolution ? ` · resolution ${call.resolution}` : " · no resolution symbol",
          call.important ? " · classified important" : "",
          call.amendment ? " · a vote on an amendment" : "",
          call.paragraph ? " · a vote on a paragraph" : ""),
        call.issues.length
          ? h("ul", { class: "issues", "aria-label": "Issues" }, call.issues.map((issue) => h("li", { "data-issue": issue },
            h("a", { href: rollcallsHref({ issue, from: `${call.date.slice(0, 4)}-01-01`, to: `${call.date.slice(0, 4)}-12-31` }), "data-nav": true,
              title: `Roll calls on ${issueName(issue)} in ${call.date.slice(0, 4)}` }, issueName(issue)))))
          : h("p", { class: "flags" }, "No issue coded."),
        call.description ? h("p", { class: "description" }, call.description) : null,
        h("p", { class: "flags" },
          h("a", { href: rollcallsHref({ from: call.date, to: call.date }), "data-nav": true }, `Every roll call of ${formatDay(call.date)}`),
          call.session ? " · " : "",
          call.session ? h("a", { href: rollcallsHref({ from: `${call.date.slice(0, 4)}-01-01`, to: `${call.date.slice(0, 4)}-12-31` }), "data-nav": true },
            `Roll calls of ${call.date.slice(0, 4)}`) : ""),
        h("details", { class: "about" }, h("summary", {}, "Sources and release"),
          sourceLinks(call.sources),
          h("p", { class: "muted" }, call.release ? `Recorded from ${call.release} on ${formatMoment(call.recorded_at)}.`
            : `Recorded on ${formatMoment(call.recorded_at)}.`, ` ${call.confidence} confidence.`)),
        releases),
      h("div", { class: "map-area" },
        h("figure", { class: "map-figure" },
          this.map.element,
          h("figcaption", { id: "map-caption", class: "map-caption" },
            `World map of the votes on ${rollcallName(call)}, ${formatDay(call.date)}: ${tally}. `,
            h("span", { class: "muted" }, "Click a country for its party view; the table below holds every vote.")),
          h("ul", { class: "legend", "aria-label": "Legend" }, VOTE_ORDER.map((vote) => h("li", {}, voteBadge(vote))))),
        h("section", { class: "beside", "aria-labelledby": "beside-title" },
          h("h2", { id: "beside-title" }, "Tally"),
          h("dl", { class: "counts", id: "counts" }, TALLIED.map((vote) => h("div", { class: "count", "data-vote": vote },
            h("dt", {}, voteBadge(vote)), h("dd", { "data-count": vote }, String(call.tally[vote]))))),
          h("h3", {}, "Not on the map"),
          offMap.length
            ? h("ul", { class: "others" }, offMap.map((code) => {
              const vote = byParty.get(code)!.vote;
              return h("li", { "data-party": code, "data-vote": vote },
                h("a", { href: partyHref(code), "data-nav": true }, this.name(code)), " ", h("span", { class: "code" }, code), " ", voteBadge(vote));
            }))
            : h("p", { class: "muted" }, "Every party that voted is on the map."))),
      this.voteTable(call));
    const retracted = this.retracted(call);
    if (retracted) this.body.append(retracted);
  }

  /** "As the record stood after release …": one button per release of the roll call's data set. */
  private async releaseButtons(dataset: string): Promise<HTMLElement | null> {
    let releases;
    try {
      releases = (await api.releases()).releases.filter((r) => r.dataset === dataset);
    } catch {
      return null; // the view is complete without them
    }
    if (!releases.length) return null;
    return h("div", { class: "releases-row" }, h("span", {}, "As the record stood after the release:"),
      releases.map((release) => h("button", {
        type: "button", "data-release": release.name, "aria-pressed": String(this.knownAt === release.loaded_at),
        onclick: () => go({ knownAt: release.loaded_at }),
      }, release.name)));
  }

  private voteTable(call: RollCall): HTMLElement {
    const rows = [...call.votes].sort((a, b) =>
      VOTE_ORDER.indexOf(a.vote) - VOTE_ORDER.indexOf(b.vote) || this.name(a.party).localeCompare(this.name(b.party)));
    return h("section", { class: "parties", "aria-labelledby": "votes-title" },
      h("h2", { id: "votes-title" }, "Every vote"),
      rows.length
        ? h("table", { class: "party-table votes-table" },
          h("caption", {}, `${rows.length} votes cast: ${TALLIED.map((v) => `${call.tally[v]} ${VOTE_TEXT[v].word}`).join(", ")}`),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Party"), h("th", { scope: "col" }, "Vote"),
            h("th", { scope: "col" }, "Recorded"))),
          h("tbody", {}, rows.map((vote) => h("tr", { "data-party": vote.party, "data-vote": vote.vote, "data-event-id": vote.event_id },
            h("th", { scope: "row" }, h("a", { href: partyHref(vote.party), "data-nav": true }, this.name(vote.party)),
              " ", h("span", { class: "code" }, vote.party),
              this.parties.get(vote.party)?.until ? h("span", { class: "muted" }, ` (until ${formatDay(this.parties.get(vote.party)!.until!, true)})`) : null),
            h("td", {}, voteBadge(vote.vote)),
            h("td", { class: "wide muted" }, vote.release ?? formatMoment(vote.recorded_at))))))
        : h("p", { class: "empty", "data-empty": "true" }, "No vote counts in this version of the record."));
  }

  private retracted(call: RollCall): HTMLElement | null {
    if (!call.retracted.length) return null;
    return h("section", { class: "corrections", "aria-labelledby": "retracted-title" },
      h("h2", { id: "retracted-title" }, "Votes retracted"),
      h("ol", { class: "entries" }, call.retracted.map((vote) => h("li", { class: "entry retracted", "data-event-id": vote.event_id, "data-party": vote.party },
        h("del", {}, `${this.name(vote.party)} (${vote.party}) `, VOTE_TEXT[vote.vote].word),
        h("span", { class: "sr-only" }, " (retracted)"),
        h("span", { class: "muted" }, ` — ${vote.retraction.reason ?? "no reason given"}, ${formatMoment(vote.retraction.recorded_at)}`)))));
  }
}

/** The roll call as the record stood at known_at; null when that version of the record does not hold it. */
async function readRollCall(id: string, knownAt: string | null): Promise<RollCall | null> {
  try {
    return await api.rollcall(id, knownAt);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 422)) return null;
    throw error;
  }
}

function notRecorded(id: string, knownAt: string | null): HTMLElement {
  return h("section", { class: "view", "aria-labelledby": "view-title", "data-rollcall": id, "data-missing": "true" },
    h("h1", { id: "view-title" }, `No roll call “${id}”`),
    h("p", {}, knownAt
      ? "The record as it stood at that moment does not hold this roll call: a later release may have added it. "
      : "The record does not hold this roll call. ",
    knownAt ? h("button", { type: "button", class: "link-button", onclick: () => go({ knownAt: null }) }, "Show the record as it is now") : null),
    h("p", {}, h("a", { href: rollcallsHref({}), "data-nav": true }, "Browse the roll calls"), ", or search by resolution symbol or title."));
}
