// The roll calls behind one agreement figure (a point or a table row of the party view's agreement chart): every
// roll call of the period on which both states cast a vote, in date order, paged by the API's cursor
// (GET /v1/agreement/rollcalls), with both votes, whose vote each was (as_party, through predecessors) and what the
// roll call adds to the agreement; above them, the figures over all of them, which equal the chart's point.

import { api, partyIndex } from "./api";
import { clear, formatDay, h } from "./dom";
import { type AgreementFilter, type PageState, partyHref, rollcallHref } from "./state";
import type { Figures, JointRollCall, Party } from "./types";
import { fixed, issueName, percent, rollcallName, voteBadge } from "./vote";

const PAGE = 50;
const ADDS: Record<string, string> = { "1": "1", "0.5": "½", "0": "0" };

export class AgreementRollCallsView {
  readonly key: string;
  readonly element: HTMLElement;
  private readonly figures: HTMLElement;
  private readonly results: HTMLElement;
  private cursors: (string | null)[] = [null]; // the cursor of each page shown so far

  private constructor(private readonly filter: AgreementFilter & { a: string; b: string }, private readonly include: boolean,
    private readonly knownAt: string | null, private readonly parties: Map<string, Party>) {
    this.key = `agreement|${JSON.stringify(filter)}|${include}|${knownAt}`;
    this.figures = h("div", { class: "agreement-figures" });
    this.results = h("div", { class: "rollcall-results", "aria-live": "polite" });
    const { a, b } = filter;
    this.element = h("section", { class: "view agreement-view", "aria-labelledby": "view-title", "data-a": a, "data-b": b },
      h("div", { class: "view-head" },
        h("p", { class: "eyebrow" }, "The roll calls behind an agreement figure"),
        h("h1", { id: "view-title" }, `${this.name(a)} and ${this.name(b)}${filter.period ? `, ${this.periodName()}` : ""}`),
        h("p", { class: "meta" }, "Every roll call on which both cast a vote (yes, no or abstain)",
          include ? ", each state followed through its predecessors" : "", ". ",
          h("a", { href: partyHref(a, include, b), "data-nav": true }, `Back to ${this.name(a)}'s charts`), ".")),
      this.figures,
      this.results);
  }

  static async open(state: PageState): Promise<AgreementRollCallsView | HTMLElement> {
    const filter = state.agreement!;
    const { a, b } = filter;
    if (!a || !b) {
      return h("section", { class: "view", "aria-labelledby": "view-title" },
        h("h1", { id: "view-title" }, "Two parties are needed"),
        h("p", {}, "The roll calls behind an agreement figure name both parties: ?agreement&a=US&b=FR&period=1995."));
    }
    const view = new AgreementRollCallsView({ ...filter, a, b }, state.include, state.knownAt, await partyIndex());
    await view.show(0);
    return view;
  }

  async update(): Promise<void> {}

  dispose(): void {}

  async refresh(): Promise<void> {
    this.cursors = [null];
    await this.show(0);
  }

  private name(code: string): string {
    return this.parties.get(code)?.name ?? code;
  }

  private periodName(): string {
    const { by, period } = this.filter;
    return by === "session" ? `session ${period}` : `${period}`;
  }

  private async show(page: number): Promise<void> {
    const { a, b, by, period } = this.filter;
    const answer = await api.agreementRollcalls(a, b, by, period, {
      include: this.include, knownAt: this.knownAt, limit: PAGE, cursor: this.cursors[page],
    });
    this.cursors[page + 1] = answer.next_cursor;
    clear(this.figures);
    this.figures.append(this.summary(answer.figures));
    clear(this.results);
    if (!answer.rollcalls.length) {
      this.results.append(h("p", { class: "empty", "data-empty": "true" },
        "No roll call on which both cast a vote in this period, in this version of the record."));
      return;
    }
    const first = page * PAGE + 1;
    this.results.append(
      h("table", { class: "party-table votes-table", "data-page": page + 1 },
        h("caption", {}, `Roll calls ${first} to ${first + answer.rollcalls.length - 1} of ${answer.figures.joint}, in date order`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Date"), h("th", { scope: "col" }, "Roll call"),
          h("th", { scope: "col" }, "Issues"), h("th", { scope: "col" }, this.name(a)), h("th", { scope: "col" }, this.name(b)),
          h("th", { scope: "col", title: "What the roll call adds to the agreement: the same vote 1, an abstention against a yes or a no ½, a yes against a no 0" }, "Adds"))),
        h("tbody", {}, answer.rollcalls.map((call) => this.row(call)))),
      h("nav", { class: "pager", "aria-label": "Pages of roll calls" },
        h("button", { type: "button", disabled: page === 0, onclick: () => void this.show(page - 1) }, "Previous page"),
        h("span", {}, `Page ${page + 1}`),
        h("button", { type: "button", disabled: !answer.next_cursor, onclick: () => void this.show(page + 1) }, "Next page")));
  }

  /** The figures over every roll call of the selection (all pages): the agreement chart's point. */
  private summary(figures: Figures): HTMLElement {
    const same = figures.identical === null ? 0 : Math.round(figures.identical * figures.joint);
    return h("p", { class: "summary", "data-summary": "joint" },
      "Both voted yes, no or abstain on ", h("strong", { "data-count": "joint" }, String(figures.joint)),
      " roll calls; the same way on ", h("strong", { "data-count": "identical" }, String(same)),
      ` (${percent(figures.identical)}). Agreement `,
      h("strong", { "data-figure": "agreement", "data-value": String(figures.agreement) }, fixed(figures.agreement)),
      ", Cohen's kappa ", h("strong", { "data-figure": "kappa", "data-value": String(figures.kappa) }, fixed(figures.kappa)), ".");
  }

  private row(call: JointRollCall): HTMLElement {
    const { a, b } = this.filter;
    return h("tr", { "data-rollcall": call.rollcall_id, "data-agreement": String(call.agreement) },
      h("td", {}, h("time", { datetime: call.date }, formatDay(call.date, true))),
      h("th", { scope: "row", class: "wide" }, h("a", { href: rollcallHref(call.rollcall_id), "data-nav": true },
        rollcallName({ id: call.rollcall_id, resolution: call.resolution, title: call.title }))),
      h("td", { class: "wide muted" }, call.issues.map(issueName).join(", ") || "—"),
      this.voteCell(call.a, a), this.voteCell(call.b, b),
      h("td", { "data-field": "adds" }, ADDS[String(call.agreement)] ?? String(call.agreement)));
  }

  private voteCell(side: JointRollCall["a"], code: string): HTMLElement {
    return h("td", { "data-party": code, "data-vote": side.vote, "data-as-party": side.as_party }, voteBadge(side.vote),
      side.as_party !== code
        ? h("span", { class: "muted" }, " as ", h("a", { href: partyHref(side.as_party), "data-nav": true }, side.as_party))
        : null);
  }
}
