// The declaration view: a world map coloured by stance at the chosen date, a date slider with a play button
// that replays the declaration's history, the counts, the organisations and others beside the map, the
// parties with their `since` dates and sources, and the record of acts with retracted ones struck through.

import { api, partyIndex } from "./api";
import {
  STANCE_TEXT,
  addDays,
  clear,
  dayToNumber,
  formatDay,
  h,
  keepingFocus,
  numberToDay,
  sourceLinks,
  stanceBadge,
  todayUtc,
} from "./dom";
import { WorldMap, type StanceAt } from "./map";
import { entryItem } from "./record";
import { type PageState, declarationHref, go, partyHref } from "./state";
import type { Declaration, Entry, Party, Signatories, Signatory } from "./types";

const STANCE_ORDER = ["signed", "declined", "withdrawn"] as const;
const PLAY_FRAMES = 36;
const PAUSE_ON_CHANGE_MS = 1400;
const PAUSE_QUIET_MS = 220;

interface Frame {
  at: string;
  label: string | null; // the replay's period and its days, e.g. "2025-W07 (10 Feb 2025 to 16 Feb 2025)"
  changes: { party: string; stance: string }[] | null; // null when the replay endpoint is not there
}

export class DeclarationView {
  readonly key: string;
  readonly element: HTMLElement;
  private at: string;
  private readonly first: string;
  private readonly last: string;
  private readonly slider: HTMLInputElement;
  private readonly dateInput: HTMLInputElement;
  private readonly output: HTMLOutputElement;
  private readonly playButton: HTMLButtonElement;
  private readonly caption: HTMLElement;
  private readonly counts: HTMLElement;
  private readonly beside: HTMLElement;
  private readonly partyList: HTMLElement;
  private readonly record: HTMLElement;
  private readonly announcer: HTMLElement;
  private readonly frameNote: HTMLElement;
  private readonly map: WorldMap;
  private readonly answers = new Map<string, Promise<Signatories>>();
  private acts: Entry[] = [];
  private sequence = 0;
  private pending: number | undefined;
  private playing = false;

  private constructor(
    private readonly declaration: Declaration,
    all: Declaration[],
    private readonly parties: Map<string, Party>,
    private readonly knownAt: string | null,
    summitStart: string | null,
    at: string | null,
  ) {
    this.key = `declaration|${declaration.id}|${knownAt}`;
    const opened = [declaration.published_on, summitStart].filter(Boolean).sort()[0] as string;
    this.last = todayUtc();
    this.at = clampDay(at ?? this.last, "0001-01-01", this.last);
    this.first = [addDays(opened, -7), this.at].sort()[0];

    this.map = new WorldMap("map-caption", (code) => go({ party: code, declaration: null, at: null }));

    this.slider = h("input", {
      id: "date-slider", type: "range", min: 0, max: dayToNumber(this.last) - dayToNumber(this.first), step: 1,
      "aria-describedby": "date-slider-hint",
      oninput: () => this.choose(numberToDay(dayToNumber(this.first) + Number(this.slider.value)), true),
    });
    this.dateInput = h("input", {
      id: "date-input", type: "date", min: this.first, max: this.last, required: true,
      onchange: () => {
        if (/^\d{4}-\d{2}-\d{2}$/.test(this.dateInput.value)) this.choose(clampDay(this.dateInput.value, this.first, this.last), true);
      },
    });
    this.output = h("output", { id: "date-output", for: "date-slider", class: "date-output" });
    this.playButton = h("button", { type: "button", id: "play", class: "play", "aria-pressed": "false", onclick: () => this.togglePlay() },
      h("span", { "aria-hidden": "true", class: "play-icon" }, "▶"), h("span", { class: "play-text" }, "Play"));
    this.caption = h("figcaption", { id: "map-caption", class: "map-caption" });
    this.counts = h("dl", { class: "counts", id: "counts" });
    this.beside = h("div", { class: "beside-list" });
    this.partyList = h("div", { class: "party-list" });
    this.record = h("div", { class: "record" });
    this.announcer = h("p", { class: "sr-only", "aria-live": "polite", id: "map-announcer" });
    this.frameNote = h("p", { class: "frame-note", id: "frame-note", hidden: true });

    const select = h("select", {
      id: "declaration-pick",
      onchange: () => go({ declaration: select.value, party: null }),
    }, all.map((d) => h("option", { value: d.id, selected: d.id === declaration.id },
      `${d.title.length > 90 ? `${d.title.slice(0, 88)}…` : d.title} (${d.published_on.slice(0, 4)})`)));

    this.element = h("section", { class: "view declaration-view", "aria-labelledby": "view-title", "data-declaration": declaration.id },
      h("div", { class: "view-head" },
        h("p", { class: "eyebrow" }, "Declaration"),
        h("h1", { id: "view-title" }, declaration.title),
        h("p", { class: "meta" },
          `Published ${formatDay(declaration.published_on)}`,
          declaration.summit ? ` at ${declaration.summit.name}` : "",
          ` · ${declaration.confidence} confidence`),
        h("details", { class: "about" }, h("summary", {}, "Sources and notes"),
          sourceLinks(declaration.sources), declaration.notes ? h("p", { class: "notes" }, declaration.notes) : null),
        h("div", { class: "pick" }, h("label", { for: "declaration-pick" }, "Show another declaration"), select)),
      h("div", { class: "date-controls" },
        h("div", { class: "slider-row" },
          h("label", { for: "date-slider", class: "slider-label" }, "Date"),
          this.slider,
          this.output),
        h("p", { id: "date-slider-hint", class: "hint" },
          "Arrow keys move a day; Page Up and Page Down move further; Home and End go to the first and last day."),
        h("div", { class: "date-row" },
          h("label", { for: "date-input" }, "Go to date"), this.dateInput, this.playButton),
        this.frameNote),
      h("div", { class: "map-area" },
        h("figure", { class: "map-figure" },
          this.map.element,
          this.caption,
          legend()),
        h("section", { class: "beside", "aria-labelledby": "beside-title" },
          h("h2", { id: "beside-title" }, "At this date"),
          this.counts,
          h("h3", {}, "Organisations and others"),
          this.beside)),
      this.announcer,
      h("section", { class: "parties", "aria-labelledby": "parties-title" },
        h("h2", { id: "parties-title" }, "Parties and their stances"),
        this.partyList),
      h("section", { class: "acts", "aria-labelledby": "acts-title" },
        h("h2", { id: "acts-title" }, "The record of acts"),
        this.record));
  }

  static async open(state: PageState): Promise<DeclarationView | HTMLElement> {
    const [all, parties, summits] = await Promise.all([api.declarations(state.knownAt), partyIndex(), api.summits()]);
    const id = state.declaration ?? latest(all)?.id;
    const declaration = all.find((d) => d.id === id);
    if (!declaration) return notFound(id ?? "", all, state.knownAt);
    const summit = summits.find((one) => one.id === declaration.summit?.id);
    const view = new DeclarationView(declaration, all, parties, state.knownAt, summit?.starts_on ?? null, state.at);
    view.setDate(view.at);
    await Promise.all([view.load(), view.loadActs()]);
    return view;
  }

  /** The URL changed while this view is open (back, forward, a link): follow its date. */
  async update(state: PageState): Promise<void> {
    const at = clampDay(state.at ?? this.last, this.first, this.last);
    if (at !== this.at) {
      this.stop();
      this.setDate(at);
      await this.load();
    }
  }

  /** New acts arrived live: forget cached answers and read the current date again. */
  async refresh(): Promise<void> {
    this.answers.clear();
    await keepingFocus(this.element, () => Promise.all([this.load(), this.loadActs()]));
  }

  dispose(): void {
    this.stop();
    window.clearTimeout(this.pending);
  }

  private choose(day: string, byUser: boolean): void {
    if (byUser) {
      this.stop();
      this.frameNote.hidden = true;
    }
    this.setDate(day);
    go({ at: day === this.last ? null : day }, { replace: true, silent: true });
    window.clearTimeout(this.pending);
    this.pending = window.setTimeout(() => void this.load(), 60);
  }

  private setDate(day: string): void {
    this.at = day;
    const text = formatDay(day) + (day === this.last ? " (today)" : "");
    this.slider.value = String(dayToNumber(day) - dayToNumber(this.first));
    this.slider.setAttribute("aria-valuetext", text);
    this.dateInput.value = day;
    this.output.value = text;
  }

  private signatories(at: string): Promise<Signatories> {
    let answer = this.answers.get(at);
    if (!answer) {
      answer = api.signatories(this.declaration.id, at, this.knownAt);
      this.answers.set(at, answer);
      answer.catch(() => this.answers.delete(at));
    }
    return answer;
  }

  async load(): Promise<void> {
    const at = this.at;
    const sequence = ++this.sequence;
    const answer = await this.signatories(at);
    if (sequence !== this.sequence) return; // a later date was chosen meanwhile
    const stances = new Map<string, StanceAt & { row: Signatory }>();
    for (const stance of STANCE_ORDER) for (const row of answer[stance]) stances.set(row.party, { stance, since: row.since, row });
    const names = new Map([...this.parties].map(([code, party]) => [code, party.name]));
    const offMap = await this.map.show(stances, names, at);
    if (sequence !== this.sequence) return;

    const counted = STANCE_ORDER.map((stance) => `${answer[stance].length} ${STANCE_TEXT[stance].word}`).join(", ");
    clear(this.caption);
    this.caption.append(`World map of the stances on ${formatDay(at)}: ${counted}. `,
      h("span", { class: "muted" }, "Click a country for its party view; the list below holds the same, with sources."));
    this.announcer.textContent = `${formatDay(at)}: ${counted}.`;

    clear(this.counts);
    for (const stance of STANCE_ORDER) {
      this.counts.append(h("div", { class: "count", "data-stance": stance },
        h("dt", {}, stanceBadge(stance)), h("dd", { "data-count": stance }, String(answer[stance].length))));
    }

    clear(this.beside);
    const others = offMap.map((code) => stances.get(code)!);
    this.beside.append(others.length
      ? h("ul", { class: "others" }, others.map((found) => {
        const code = found.row.party;
        return h("li", { "data-party": code, "data-stance": found.stance },
          h("a", { href: partyHref(code), "data-nav": true }, this.parties.get(code)?.name ?? code),
          " ", h("span", { class: "code" }, code), " ", stanceBadge(found.stance),
          h("span", { class: "muted" }, ` since ${formatDay(found.since ?? "", true)}`));
      }))
      : h("p", { class: "muted" }, "None with a stance on this date."));

    clear(this.partyList);
    const rows = [...stances.values()].sort((a, b) =>
      STANCE_ORDER.indexOf(a.stance as never) - STANCE_ORDER.indexOf(b.stance as never)
      || (this.parties.get(a.row.party)?.name ?? a.row.party).localeCompare(this.parties.get(b.row.party)?.name ?? b.row.party));
    if (!rows.length) {
      this.partyList.append(h("p", { class: "empty", "data-empty": "true" }, `No party had a stance on ${formatDay(at)}.`));
      return;
    }
    this.partyList.append(h("table", { class: "party-table" },
      h("caption", {}, `${rows.length} parties with a stance on ${formatDay(at)}`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Party"), h("th", { scope: "col" }, "Stance"),
        h("th", { scope: "col" }, "Since"), h("th", { scope: "col" }, "Sources"))),
      h("tbody", {}, rows.map(({ stance, row }) => h("tr", { "data-party": row.party, "data-stance": stance },
        h("th", { scope: "row" }, h("a", { href: partyHref(row.party), "data-nav": true }, this.parties.get(row.party)?.name ?? row.party),
          " ", h("span", { class: "code" }, row.party)),
        h("td", {}, stanceBadge(stance)),
        h("td", {}, h("time", { datetime: row.since }, formatDay(row.since, true)),
          row.precision !== "day" ? h("span", { class: "muted" }, ` (${row.precision})`) : null,
          row.confidence !== "high" ? h("span", { class: "muted" }, ` · ${row.confidence} confidence`) : null),
        h("td", {}, sourceLinks(row.sources)))))));
  }

  private async loadActs(): Promise<void> {
    const page = await api.acts(this.declaration.id, this.knownAt);
    this.acts = page.items;
    const names = new Map([...this.parties].map(([code, party]) => [code, party.name]));
    const retracted = this.acts.filter((act) => act.retracted);
    clear(this.record);
    this.record.append(h("section", { class: "corrections", "aria-labelledby": "corrections-title" },
      h("h3", { id: "corrections-title" }, "Corrections"),
      retracted.length
        ? h("ol", { class: "entries" }, retracted.map((act) => entryItem(act, names, { party: true })))
        : h("p", { class: "muted" }, "No act on this declaration has been retracted in this version of the record.")));
    this.record.append(h("details", { class: "all-acts" },
      h("summary", {}, `All ${this.acts.length} acts on record, in valid-time order`),
      h("ol", { class: "entries" }, this.acts.map((act) => entryItem(act, names, { party: true })))));
  }

  /** The frames the play button steps through: the replay's calendar periods (GET /v1/replay), a week or a
   *  month each, with the stances that changed in each; without that endpoint, the acts' dates and evenly
   *  spaced days between. */
  private async frames(): Promise<Frame[]> {
    const span = dayToNumber(this.last) - dayToNumber(this.first);
    const step = span <= 120 ? "day" : span <= 1100 ? "week" : "month";
    try {
      const replay = await api.replay(this.declaration.id, this.first, this.last, step, this.knownAt);
      return replay.frames.map((frame) => ({
        at: frame.at,
        label: frame.starts_on === frame.at ? frame.period
          : `${frame.period} (${formatDay(frame.starts_on, true)} to ${formatDay(frame.at, true)})`,
        changes: frame.changes.filter((c) => c.declaration_id === this.declaration.id)
          .map((c) => ({ party: c.party, stance: c.stance })),
      }));
    } catch {
      const start = dayToNumber(this.first);
      const days = new Set<string>([this.first, this.last]);
      for (let i = 1; i < PLAY_FRAMES; i += 1) days.add(numberToDay(start + Math.round((span * i) / PLAY_FRAMES)));
      for (const act of this.acts) if (!act.retracted && act.effective_on >= this.first) days.add(act.effective_on);
      return [...days].sort().map((at) => ({ at, label: null, changes: null }));
    }
  }

  private async togglePlay(): Promise<void> {
    if (this.playing) {
      this.stop();
      return;
    }
    this.playing = true;
    this.playButton.setAttribute("aria-pressed", "true");
    this.playButton.querySelector(".play-icon")!.textContent = "❚❚";
    this.playButton.querySelector(".play-text")!.textContent = "Pause";
    const frames = await this.frames();
    let i = frames.findIndex((frame) => frame.at > this.at);
    if (i < 0) i = 0; // at the end: play again from the start
    for (; this.playing && i < frames.length; i += 1) {
      const frame = frames[i];
      this.choose(frame.at, false);
      window.clearTimeout(this.pending);
      await this.load();
      this.describe(frame);
      const quiet = frame.changes !== null && frame.changes.length === 0;
      await new Promise((resolve) => window.setTimeout(resolve, quiet ? PAUSE_QUIET_MS : PAUSE_ON_CHANGE_MS));
    }
    this.stop();
  }

  /** What changed in the frame being played, in words: "2025-W07: declined GB, US; signed AE, … (60)". */
  private describe(frame: Frame): void {
    clear(this.frameNote);
    this.frameNote.hidden = false;
    const period = frame.label ?? formatDay(frame.at);
    if (frame.changes === null) {
      this.frameNote.append(h("strong", {}, period));
      return;
    }
    if (!frame.changes.length) {
      this.frameNote.append(h("strong", {}, period), h("span", { class: "muted" }, ": no change"));
      return;
    }
    const byStance = new Map<string, string[]>();
    for (const change of frame.changes) byStance.set(change.stance, [...(byStance.get(change.stance) ?? []), change.party]);
    this.frameNote.append(h("strong", {}, period), ": ",
      ...[...byStance].map(([stance, parties], n) => [n ? "; " : "", stanceBadge(stance), " ",
        parties.length > 8 ? `${parties.slice(0, 8).join(", ")} and ${parties.length - 8} more` : parties.join(", ")]).flat());
  }

  private stop(): void {
    if (!this.playing) return;
    this.playing = false;
    this.playButton.setAttribute("aria-pressed", "false");
    this.playButton.querySelector(".play-icon")!.textContent = "▶";
    this.playButton.querySelector(".play-text")!.textContent = "Play";
  }
}

function clampDay(day: string, first: string, last: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return last;
  return day < first ? first : day > last ? last : day;
}

function latest(all: Declaration[]): Declaration | undefined {
  return [...all].sort((a, b) => b.published_on.localeCompare(a.published_on))[0];
}

function legend(): HTMLElement {
  return h("ul", { class: "legend", "aria-label": "Legend" },
    (["signed", "declined", "withdrawn", "none"] as const).map((stance) => h("li", {}, stanceBadge(stance))));
}

function notFound(id: string, all: Declaration[], knownAt: string | null): HTMLElement {
  return h("section", { class: "view", "aria-labelledby": "view-title" },
    h("h1", { id: "view-title" }, all.length ? `No declaration “${id}”` : "No declaration yet"),
    h("p", {}, knownAt ? "The record as it stood at that moment holds these declarations:" : "The record holds these declarations:"),
    all.length
      ? h("ul", {}, all.map((d) => h("li", {}, h("a", { href: declarationHref(d.id), "data-nav": true }, d.title))))
      : h("p", {}, "Load the seeds with ", h("code", {}, "diplo seed"), " or record one through the API."));
}
