// How a party votes and whom it votes with, in its view: its vote shares year by year (one small chart per issue,
// and one over every roll call; GET /v1/parties/{code}/vote-share) and its agreement with a second party chosen
// from a search box (GET /v1/agreement). Charts are drawn with Observable Plot; each has a table beside it with
// the same numbers for screen readers, and each point (and each table row) opens the roll calls behind it: the
// roll-call list of that year with the party's votes, or the joint roll calls that make the agreement figure
// (GET /v1/agreement/rollcalls), both votes side by side.

import * as Plot from "@observablehq/plot";
import { api } from "./api";
import { clear, h } from "./dom";
import { agreementHref, go, rollcallsHref } from "./state";
import { type AgreementPeriod, ISSUES, type Party, type VoteSharePeriod } from "./types";
import { fixed, issueName, percent } from "./vote";

const SHARES = ["yes", "no", "abstain"] as const;
const SHARE_COLOURS = { yes: "#1f6fb2", no: "#c2410c", abstain: "#8a6100" };
const SHARE_SYMBOLS = { yes: "circle", no: "times", abstain: "square" };
const WIDTH = 340;
const HEIGHT = 170;

/** The first and last day of a period of `by=year`. */
function yearSpan(period: string): { from: string; to: string } {
  return { from: `${period}-01-01`, to: `${period}-12-31` };
}

/** Rows with NaN for the years between, so that a line breaks where the record has no vote. */
function withGaps<T extends { period: string }>(rows: T[], empty: (year: number) => T): T[] {
  const years = rows.map((r) => Number(r.period)).filter(Number.isFinite);
  if (!years.length) return rows;
  const known = new Map(rows.map((r) => [Number(r.period), r]));
  const filled: T[] = [];
  for (let year = Math.min(...years); year <= Math.max(...years); year += 1) filled.push(known.get(year) ?? empty(year));
  return filled;
}

/** Plot draws an <a> for each point with an href; the page follows it without a reload (data-nav). */
function linked(chart: Element): Element {
  for (const link of chart.querySelectorAll("a")) link.setAttribute("data-nav", "");
  return chart;
}

export class Alignment {
  readonly element: HTMLElement;
  private readonly shares: HTMLElement;
  private readonly agreement: HTMLElement;

  constructor(private readonly party: Party, private readonly parties: Map<string, Party>, private readonly include: boolean,
    private readonly knownAt: string | null, private other: string | null) {
    this.shares = h("div", { class: "small-multiples", id: "vote-shares" });
    this.agreement = h("div", { class: "agreement", id: "agreement" });
    this.element = h("section", { class: "alignment", "aria-labelledby": "alignment-title" },
      h("h2", { id: "alignment-title" }, `How ${party.name} voted, year by year`),
      h("p", { class: "muted" }, "Shares of the votes cast (yes, no, abstain; absences are not votes)",
        include ? ", its predecessors included" : "", ". A point, or a row of a table, opens the roll calls behind it."),
      this.shares,
      h("h2", { id: "agreement-title" }, `How often ${party.name} voted with another state`),
      this.partyPicker(),
      this.agreement);
  }

  async show(): Promise<void> {
    await Promise.all([this.showShares(), this.showAgreement()]);
  }

  /** Follows the URL's second party without rebuilding the vote shares. */
  async compareWith(other: string | null): Promise<void> {
    if (other === this.other) return;
    this.other = other;
    await this.showAgreement();
  }

  private name(code: string): string {
    return this.parties.get(code)?.name ?? code;
  }

  private async showShares(): Promise<void> {
    const scopes: (string | null)[] = [null, ...ISSUES];
    let answers;
    try {
      answers = await Promise.all(scopes.map((issue) =>
        api.voteShare(this.party.code, { issue, include: this.include, knownAt: this.knownAt })));
    } catch (error) {
      clear(this.shares);
      this.shares.append(unavailable(error, "vote shares"));
      return;
    }
    clear(this.shares);
    if (!answers[0].periods.length) {
      this.shares.append(h("p", { class: "empty", "data-empty": "true" }, `No vote of ${this.party.name} in this version of the record.`));
      return;
    }
    scopes.forEach((issue, i) => this.shares.append(this.shareCard(issue, answers[i].periods)));
  }

  private shareCard(issue: string | null, periods: VoteSharePeriod[]): HTMLElement {
    const title = issue ? issueName(issue) : "Every roll call";
    const id = `share-${issue ?? "all"}`;
    const href = (period: string) => rollcallsHref({ ...yearSpan(period), issue, a: this.party.code }, this.include);
    const points = withGaps(periods, (year) => ({ period: String(year), votes: 0, yes: NaN, no: NaN, abstain: NaN }))
      .flatMap((p) => SHARES.map((vote) => ({ year: Number(p.period), vote, share: p[vote], votes: p.votes, period: p.period })));
    const drawn = points.filter((p) => Number.isFinite(p.share));
    const chart = periods.length ? linked(Plot.plot({
      width: WIDTH, height: HEIGHT, marginLeft: 38, marginBottom: 26,
      x: { label: null, tickFormat: "d", nice: true },
      y: { domain: [0, 1], label: "share", tickFormat: "%", grid: true },
      color: { domain: [...SHARES], range: SHARES.map((v) => SHARE_COLOURS[v]) },
      symbol: { domain: [...SHARES], range: SHARES.map((v) => SHARE_SYMBOLS[v]) },
      marks: [
        Plot.line(points, { x: "year", y: "share", z: "vote", stroke: "vote", strokeWidth: 1.5 }),
        Plot.dot(drawn, {
          x: "year", y: "share", stroke: "vote", symbol: "vote", r: 3, strokeWidth: 1.5, fill: "white",
          title: (d) => `${d.period}: ${d.vote} ${percent(d.share)} of ${d.votes} votes`,
          href: (d) => href(d.period),
          ariaLabel: (d) => `${d.period}, ${d.vote}: ${percent(d.share)} of ${d.votes} votes; open the roll calls`,
        }),
      ],
    })) : null;
    chart?.setAttribute("aria-labelledby", `${id}-title`);
    chart?.classList.add("chart");
    return h("figure", { class: "chart-card", id, "data-issue": issue ?? "all" },
      h("figcaption", { id: `${id}-title` }, h("strong", {}, title),
        periods.length ? ` · ${periods.length} years` : " · no vote"),
      chart,
      periods.length ? h("div", { class: "chart-table", tabindex: "0", role: "region", "aria-label": `${title}: the figures` },
        h("table", { class: "figures" },
          h("caption", { class: "sr-only" }, `${this.party.name}'s vote shares on ${title}, by year`),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Year"), h("th", { scope: "col" }, "Votes"),
            SHARES.map((vote) => h("th", { scope: "col" }, vote)))),
          h("tbody", {}, periods.map((p) => h("tr", { "data-period": p.period },
            h("th", { scope: "row" }, h("a", { href: href(p.period), "data-nav": true }, p.period)),
            h("td", { "data-field": "votes" }, String(p.votes)),
            SHARES.map((vote) => h("td", { "data-field": vote, "data-value": String(p[vote]) }, percent(p[vote])))))))) : null);
  }

  private partyPicker(): HTMLElement {
    const options = [...this.parties.values()].filter((p) => p.code !== this.party.code && p.kind !== "organisation")
      .sort((a, b) => a.name.localeCompare(b.name));
    const input = h("input", {
      id: "agreement-with", type: "search", list: "agreement-parties", autocomplete: "off", spellcheck: "false",
      value: this.other ?? "", placeholder: "US, India, USSR…", "aria-describedby": "agreement-hint agreement-error",
    });
    const error = h("p", { class: "error", id: "agreement-error", role: "alert" });
    return h("form", {
      class: "filters", role: "search", "aria-label": "Choose a second party",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const wanted = input.value.trim().toLowerCase();
        const found = options.find((p) => p.code.toLowerCase() === wanted) ?? options.find((p) => p.name.toLowerCase() === wanted)
          ?? options.find((p) => p.name.toLowerCase().startsWith(wanted));
        if (!wanted || !found) {
          error.textContent = wanted ? `No party “${input.value.trim()}”: choose one from the list.` : "Choose a party.";
          input.setAttribute("aria-invalid", "true");
          return;
        }
        error.textContent = "";
        input.removeAttribute("aria-invalid");
        input.value = found.code;
        go({ with: found.code });
      },
    },
    h("label", { for: "agreement-with" }, "Compare with", input),
    h("datalist", { id: "agreement-parties" }, options.map((p) => h("option", { value: p.code }, p.name))),
    h("button", { type: "submit" }, "Compare"),
    h("p", { class: "hint", id: "agreement-hint" }, "A party's code or name, e.g. US or India."),
    error);
  }

  private async showAgreement(): Promise<void> {
    const other = this.other;
    clear(this.agreement);
    if (!other) {
      this.agreement.append(h("p", { class: "muted" }, "Choose a second party to see how often the two voted alike."));
      return;
    }
    let answer;
    try {
      answer = await api.agreement(this.party.code, other, { include: this.include, knownAt: this.knownAt });
    } catch (error) {
      if (other !== this.other) return;
      clear(this.agreement);
      this.agreement.append(unavailable(error, "agreement"));
      return;
    }
    if (other !== this.other) return; // another party was chosen meanwhile
    clear(this.agreement);
    this.agreement.append(this.agreementCard(other, answer.periods.filter((p) => p.joint > 0)));
  }

  private agreementCard(other: string, periods: AgreementPeriod[]): HTMLElement {
    const pair = `${this.name(this.party.code)} and ${this.name(other)}`;
    const href = (period: string) => agreementHref({ a: this.party.code, b: other, by: "year", period }, this.include);
    const series = [
      { key: "agreement", label: "agreement", colour: "#1f6fb2", symbol: "circle" },
      { key: "kappa", label: "kappa", colour: "#6a4c93", symbol: "diamond" },
    ] as const;
    const points = withGaps(periods, (year) => ({ period: String(year), joint: 0, identical: null, agreement: null, kappa: null }))
      .flatMap((p) => series.map((s) => ({ year: Number(p.period), measure: s.label, value: p[s.key] ?? NaN, joint: p.joint, period: p.period })));
    const drawn = points.filter((p) => Number.isFinite(p.value));
    const low = Math.min(0, ...drawn.map((p) => p.value));
    const chart = periods.length ? linked(Plot.plot({
      width: WIDTH * 2, height: HEIGHT + 40, marginLeft: 38, marginBottom: 26,
      x: { label: null, tickFormat: "d", nice: true },
      y: { domain: [low, 1], label: "agreement, kappa", grid: true },
      color: { domain: series.map((s) => s.label), range: series.map((s) => s.colour), legend: true },
      symbol: { domain: series.map((s) => s.label), range: series.map((s) => s.symbol) },
      marks: [
        Plot.ruleY([0]),
        Plot.line(points, { x: "year", y: "value", z: "measure", stroke: "measure", strokeWidth: 1.5 }),
        Plot.dot(drawn, {
          x: "year", y: "value", stroke: "measure", symbol: "measure", r: 3.5, strokeWidth: 1.5, fill: "white",
          title: (d) => `${d.period}: ${d.measure} ${fixed(d.value)} over ${d.joint} joint votes`,
          href: (d) => href(d.period),
          ariaLabel: (d) => `${d.period}, ${d.measure} ${fixed(d.value)} over ${d.joint} joint votes; open the roll calls`,
        }),
      ],
    })) : null;
    // With a legend, Plot answers a <figure> holding the legend and the chart's SVG.
    chart?.classList.add("chart");
    chart?.setAttribute("aria-labelledby", "agreement-chart-title");
    return h("figure", { class: "chart-card wide", id: "agreement-card", "data-with": other },
      h("figcaption", { id: "agreement-chart-title" }, h("strong", {}, pair),
        periods.length ? `: agreement (the same vote 1, an abstention against a yes or a no ½) and Cohen's kappa (agreement beyond chance), by year` : ": no roll call both voted on"),
      chart,
      periods.length ? h("div", { class: "chart-table", tabindex: "0", role: "region", "aria-label": `${pair}: the figures` },
        h("table", { class: "figures" },
          h("caption", { class: "sr-only" }, `How ${pair} voted alike, by year`),
          h("thead", {}, h("tr", {}, ["Year", "Joint votes", "Identical", "Agreement", "Kappa"].map((name) => h("th", { scope: "col" }, name)))),
          h("tbody", {}, periods.map((p) => h("tr", { "data-period": p.period },
            h("th", { scope: "row" }, h("a", { href: href(p.period), "data-nav": true }, p.period)),
            h("td", { "data-field": "joint" }, String(p.joint)),
            h("td", { "data-field": "identical", "data-value": String(p.identical) }, percent(p.identical)),
            h("td", { "data-field": "agreement", "data-value": String(p.agreement) }, fixed(p.agreement)),
            h("td", { "data-field": "kappa", "data-value": String(p.kappa) }, fixed(p.kappa))))))) : null);
  }
}

function unavailable(error: unknown, what: string): HTMLElement {
  // Whatever the API refused (an unknown party, a period it does not have), its message names the field.
  return h("p", { class: "muted", "data-unavailable": "true" },
    `The ${what} could not be read: ${error instanceof Error ? error.message : String(error)}`);
}
