// The roll-call list: roll calls filtered by words of the resolution symbol or title, dates and issue, with
// their tallies, paged (GET /v1/rollcalls). With one or two parties (a, b) it lists those parties' votes on each
// roll call of the period instead (GET /v1/parties/{code}/votes): the roll calls behind a point of a party's
// vote-share chart, with the counts that make the point; with two, each one's votes side by side (an agreement
// figure's own roll calls, the joint ones only, are agreement-rollcalls.ts).

import { api, partyIndex } from "./api";
import { clear, formatDay, h } from "./dom";
import { type PageState, type RollCallFilter, go, partyHref, rollcallHref } from "./state";
import { ISSUES, type Party, type PartyVote, type RollCallSummary } from "./types";
import { VOTE_TEXT, issueName, rollcallName, voteBadge } from "./vote";

const PAGE = 50;
const CAST = new Set(["yes", "no", "abstain"]);
const MAX_PARTY_PAGES = 10; // a year holds at most a few hundred roll calls: 10 pages of 1000 is all of them

export class RollCallListView {
  readonly key: string;
  readonly element: HTMLElement;
  private readonly results: HTMLElement;
  private cursors: (string | null)[] = [null]; // the cursor of each page shown so far
  private page = 0;

  private constructor(private readonly filter: RollCallFilter, private readonly include: boolean,
    private readonly knownAt: string | null, private readonly parties: Map<string, Party>) {
    this.key = `rollcalls|${JSON.stringify(filter)}|${include}|${knownAt}`;
    this.results = h("div", { class: "rollcall-results", "aria-live": "polite" });
    this.element = h("section", { class: "view rollcalls-view", "aria-labelledby": "view-title" },
      h("div", { class: "view-head" },
        h("p", { class: "eyebrow" }, "Roll calls of the General Assembly"),
        h("h1", { id: "view-title" }, this.title()),
        this.form()),
      this.results);
  }

  static async open(state: PageState): Promise<RollCallListView> {
    const view = new RollCallListView(state.rollcalls!, state.include, state.knownAt, await partyIndex());
    await view.refresh();
    return view;
  }

  async update(): Promise<void> {}

  dispose(): void {}

  async refresh(): Promise<void> {
    if (this.filter.a) await this.showVotes(this.filter.a, this.filter.b);
    else await this.showPage(this.page);
  }

  private name(code: string): string {
    return this.parties.get(code)?.name ?? code;
  }

  private title(): string {
    const f = this.filter;
    const who = f.a ? `${f.b ? `${this.name(f.a)} and ${this.name(f.b)}` : this.name(f.a)}: votes` : "Roll calls";
    const about = f.issue ? ` on ${issueName(f.issue)}` : "";
    const words = f.q && !f.a ? ` matching “${f.q}”` : "";
    const when = f.from && f.to ? (f.from === f.to ? ` of ${formatDay(f.from)}` : ` from ${formatDay(f.from)} to ${formatDay(f.to)}`)
      : f.from ? ` from ${formatDay(f.from)}` : f.to ? ` up to ${formatDay(f.to)}` : "";
    return `${who}${about}${words}${when}`;
  }

  private form(): HTMLElement {
    const f = this.filter;
    const q = h("input", { id: "rc-q", name: "q", type: "search", value: f.q ?? "", placeholder: "R/26/2758, disarmament…" });
    const from = h("input", { id: "rc-from", name: "from", type: "date", value: f.from ?? "" });
    const to = h("input", { id: "rc-to", name: "to", type: "date", value: f.to ?? "" });
    const issue = h("select", { id: "rc-issue", name: "issue" }, h("option", { value: "" }, "Any issue"),
      ISSUES.map((code) => h("option", { value: code, selected: code === f.issue }, issueName(code))));
    return h("form", {
      class: "filters", role: "search", "aria-label": "Filter the roll calls",
      onsubmit: (event: Event) => {
        event.preventDefault();
        go({ rollcalls: { ...f, q: q.value.trim() || null, from: from.value || null, to: to.value || null, issue: issue.value || null } });
      },
    },
    f.a ? null : h("label", { for: "rc-q" }, "Resolution symbol or words of the title", q),
    h("label", { for: "rc-from" }, "From", from),
    h("label", { for: "rc-to" }, "To", to),
    h("label", { for: "rc-issue" }, "Issue", issue),
    h("button", { type: "submit" }, "Show"));
  }

  private async showPage(page: number): Promise<void> {
    const f = this.filter;
    const answer = await api.rollcalls({ q: f.q, from: f.from, to: f.to, issue: f.issue, knownAt: this.knownAt, limit: PAGE, cursor: this.cursors[page] });
    this.page = page;
    this.cursors[page + 1] = answer.next_cursor;
    clear(this.results);
    const first = page * PAGE + 1;
    this.results.append(
      answer.rollcalls.length
        ? h("table", { class: "party-table votes-table", "data-page": page + 1 },
          h("caption", {}, `Roll calls ${first} to ${first + answer.rollcalls.length - 1}${answer.next_cursor ? ", more follow" : ""}, in date order`),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Date"), h("th", { scope: "col" }, "Roll call"),
            h("th", { scope: "col" }, "Issues"), h("th", { scope: "col" }, "Tally (yes, no, abstain)"))),
          h("tbody", {}, answer.rollcalls.map((call) => this.row(call))))
        : h("p", { class: "empty", "data-empty": "true" }, "No roll call matches in this version of the record."),
      this.pager(page, answer.next_cursor));
  }

  private row(call: RollCallSummary): HTMLElement {
    return h("tr", { "data-rollcall": call.id },
      h("td", {}, h("time", { datetime: call.date }, formatDay(call.date, true))),
      h("th", { scope: "row", class: "wide" }, h("a", { href: rollcallHref(call.id), "data-nav": true }, rollcallName(call))),
      h("td", { class: "wide muted" }, call.issues.map(issueName).join(", ") || "—"),
      h("td", { "data-tally": `${call.tally.yes}-${call.tally.no}-${call.tally.abstain}` },
        `${call.tally.yes} – ${call.tally.no} – ${call.tally.abstain}`));
  }

  private pager(page: number, next: string | null): HTMLElement {
    return h("nav", { class: "pager", "aria-label": "Pages" },
      h("button", { type: "button", disabled: page === 0, onclick: () => void this.showPage(page - 1) }, "Previous page"),
      h("span", {}, `Page ${page + 1}`),
      h("button", { type: "button", disabled: !next, onclick: () => void this.showPage(page + 1) }, "Next page"));
  }

  /** Every vote of one party (or two, side by side) in the period, one row per roll call. */
  private async showVotes(a: string, b: string | null): Promise<void> {
    const f = this.filter;
    const read = async (code: string) => {
      const votes: PartyVote[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < MAX_PARTY_PAGES; i += 1) {
        const page = await api.partyVotes(code, { from: f.from, to: f.to, issue: f.issue, include: this.include, knownAt: this.knownAt, limit: 1000, cursor });
        votes.push(...page.votes);
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      return votes;
    };
    const [first, second] = await Promise.all([read(a), b ? read(b) : Promise.resolve(null)]);
    const rows = new Map<string, { call: PartyVote; a: PartyVote | null; b: PartyVote | null }>();
    for (const vote of first) rows.set(vote.rollcall_id, { call: vote, a: vote, b: null });
    for (const vote of second ?? []) {
      const row = rows.get(vote.rollcall_id);
      if (row) row.b = vote;
      else rows.set(vote.rollcall_id, { call: vote, a: null, b: vote });
    }
    const ordered = [...rows.values()].sort((x, y) => x.call.date.localeCompare(y.call.date) || x.call.rollcall_id.localeCompare(y.call.rollcall_id, "en", { numeric: true }));
    clear(this.results);
    const summary = b ? this.jointSummary(ordered) : this.shareSummary(first);
    this.results.append(summary,
      ordered.length
        ? h("table", { class: "party-table votes-table" },
          h("caption", {}, `${ordered.length} roll calls${this.include ? ", each state followed through its predecessors" : ""}`),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Date"), h("th", { scope: "col" }, "Roll call"),
            h("th", { scope: "col" }, this.name(a)), b ? h("th", { scope: "col" }, this.name(b)) : null)),
          h("tbody", {}, ordered.map((row) => h("tr", { "data-rollcall": row.call.rollcall_id },
            h("td", {}, h("time", { datetime: row.call.date }, formatDay(row.call.date, true))),
            h("th", { scope: "row", class: "wide" }, h("a", { href: rollcallHref(row.call.rollcall_id), "data-nav": true },
              rollcallName({ id: row.call.rollcall_id, resolution: row.call.resolution, title: row.call.title }))),
            this.voteCell(row.a, a), b ? this.voteCell(row.b, b) : null))))
        : h("p", { class: "empty", "data-empty": "true" }, "No vote in this period in this version of the record."));
  }

  private voteCell(vote: PartyVote | null, code: string): HTMLElement {
    if (!vote) return h("td", { "data-party": code, "data-vote": "none" }, h("span", { class: "muted" }, VOTE_TEXT.none.word));
    return h("td", { "data-party": code, "data-vote": vote.vote }, voteBadge(vote.vote),
      vote.as_party !== code ? h("span", { class: "muted" }, " as ", h("a", { href: partyHref(vote.as_party), "data-nav": true }, vote.as_party)) : null);
  }

  private shareSummary(votes: PartyVote[]): HTMLElement {
    const counts = { yes: 0, no: 0, abstain: 0, absent: 0 };
    for (const vote of votes) counts[vote.vote] += 1;
    return h("p", { class: "summary", "data-summary": "votes" },
      `${votes.length} votes: `, (["yes", "no", "abstain", "absent"] as const).map((v, i) => [i ? ", " : "", h("span", { "data-count": v }, String(counts[v])), ` ${VOTE_TEXT[v].word}`]).flat(), ".");
  }

  /** The figures an agreement point is made of: roll calls both voted yes, no or abstain on, and how many alike. */
  private jointSummary(rows: { a: PartyVote | null; b: PartyVote | null }[]): HTMLElement {
    const joint = rows.filter((r) => r.a && r.b && CAST.has(r.a.vote) && CAST.has(r.b.vote));
    const same = joint.filter((r) => r.a!.vote === r.b!.vote).length;
    return h("p", { class: "summary", "data-summary": "joint" },
      "Both voted yes, no or abstain on ", h("strong", { "data-count": "joint" }, String(joint.length)), " roll calls; the same way on ",
      h("strong", { "data-count": "identical" }, String(same)), joint.length ? ` (${Math.round((same / joint.length) * 100)} %).` : ".");
  }
}

