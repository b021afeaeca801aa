// A party's votes in the General Assembly, in the party view: one row per roll call in date order, paged
// (GET /v1/parties/{code}/votes), filtered by issue, and — for a state that had predecessors — followed through
// them (include=predecessors), each row saying whose vote it was (as_party).

import { api } from "./api";
import { clear, formatDay, h } from "./dom";
import { go, partyHref, rollcallHref } from "./state";
import { ISSUES, type Party } from "./types";
import { issueName, rollcallName, voteBadge } from "./vote";

const PAGE = 50;

export class PartyVotes {
  readonly element: HTMLElement;
  private readonly results: HTMLElement;
  private cursors: (string | null)[] = [null];
  private issue: string | null = null;

  constructor(private readonly party: Party, private readonly include: boolean, private readonly knownAt: string | null,
    private readonly names: Map<string, string>) {
    this.results = h("div", { class: "party-votes-results", "aria-live": "polite" });
    const issue = h("select", {
      id: "votes-issue",
      onchange: () => { this.issue = issue.value || null; this.cursors = [null]; void this.show(0); },
    }, h("option", { value: "" }, "Any issue"), ISSUES.map((code) => h("option", { value: code }, issueName(code))));
    const line = party.predecessors.map((p) => names.get(p.party) ?? p.party).join(", ");
    const toggle = party.predecessors.length
      ? h("label", { class: "toggle" }, h("input", {
        type: "checkbox", id: "include-predecessors", checked: include,
        onchange: (event: Event) => go({ include: (event.target as HTMLInputElement).checked }, { replace: true }),
      }), `Include its predecessors (${line})`)
      : null;
    this.element = h("section", { class: "party-votes", "aria-labelledby": "party-votes-title" },
      h("h2", { id: "party-votes-title" }, `${party.name}'s votes in the General Assembly`),
      h("div", { class: "filters" }, h("label", { for: "votes-issue" }, "Issue", issue), toggle),
      this.results);
  }

  async show(page: number): Promise<void> {
    const answer = await api.partyVotes(this.party.code, {
      issue: this.issue, include: this.include, knownAt: this.knownAt, limit: PAGE, cursor: this.cursors[page],
    });
    this.cursors[page + 1] = answer.next_cursor;
    const first = page * PAGE + 1;
    const shown = this.include || answer.votes.some((v) => v.as_party !== this.party.code);
    clear(this.results);
    if (!answer.votes.length && page === 0) {
      this.results.append(h("p", { class: "empty", "data-empty": "true" },
        `No vote of ${this.party.name}${this.include ? " or its predecessors" : ""} in this version of the record.`));
      return;
    }
    this.results.append(
      h("table", { class: "party-table votes-table", "data-page": page + 1 },
        h("caption", {}, `Votes ${first} to ${first + answer.votes.length - 1}${answer.next_cursor ? ", more follow" : ""}, in date order`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Date"), h("th", { scope: "col" }, "Roll call"),
          h("th", { scope: "col" }, "Vote"), shown ? h("th", { scope: "col" }, "Cast by") : null)),
        h("tbody", {}, answer.votes.map((vote) => h("tr", { "data-rollcall": vote.rollcall_id, "data-vote": vote.vote, "data-as-party": vote.as_party },
          h("td", {}, h("time", { datetime: vote.date }, formatDay(vote.date, true))),
          h("th", { scope: "row", class: "wide" }, h("a", { href: rollcallHref(vote.rollcall_id), "data-nav": true },
            rollcallName({ id: vote.rollcall_id, resolution: vote.resolution, title: vote.title }))),
          h("td", {}, voteBadge(vote.vote)),
          shown ? h("td", {}, vote.as_party === this.party.code ? vote.as_party
            : h("a", { href: partyHref(vote.as_party), "data-nav": true }, `${this.names.get(vote.as_party) ?? vote.as_party} (${vote.as_party})`)) : null)))),
      h("nav", { class: "pager", "aria-label": "Pages of votes" },
        h("button", { type: "button", disabled: page === 0, onclick: () => void this.show(page - 1) }, "Previous page"),
        h("span", {}, `Page ${page + 1}`),
        h("button", { type: "button", disabled: !answer.next_cursor, onclick: () => void this.show(page + 1) }, "Next page")));
  }
}
