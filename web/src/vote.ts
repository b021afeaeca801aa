// How a vote is shown wherever it appears: a word and a symbol beside its colour, so colour is never the only
// cue, and the issues of a roll call by their names.

import { h } from "./dom";
import { ISSUE_NAMES, type Issue, type Vote } from "./types";

/** The votes in the order the page lists them, then "none": a party with no vote on the roll call. */
export const VOTE_ORDER: (Vote | "none")[] = ["yes", "no", "abstain", "absent", "none"];

export const VOTE_TEXT: Record<Vote | "none", { word: string; symbol: string }> = {
  yes: { word: "yes", symbol: "✓" },
  no: { word: "no", symbol: "✗" },
  abstain: { word: "abstain", symbol: "○" },
  absent: { word: "absent", symbol: "–" },
  none: { word: "no vote", symbol: "·" },
};

export function voteBadge(vote: Vote | "none"): HTMLElement {
  const text = VOTE_TEXT[vote];
  return h("span", { class: "badge vote-badge", "data-vote": vote },
    h("span", { class: "swatch", "aria-hidden": "true" }),
    h("span", { "aria-hidden": "true" }, text.symbol), " ", text.word);
}

export function issueName(issue: string): string {
  return ISSUE_NAMES[issue as Issue] ?? issue;
}

/** A roll call's name: its resolution symbol and title, either one if the other is missing. */
export function rollcallName(call: { resolution: string | null; title: string | null; id: string }): string {
  const title = call.title ? sentenceCase(call.title) : null;
  return [call.resolution, title].filter(Boolean).join(" · ") || call.id;
}

/** The data set's older titles are in capitals ("CHINA REPRESENTATION"); shown as a sentence, they read. */
export function sentenceCase(text: string): string {
  if (text !== text.toUpperCase()) return text;
  const lower = text.toLowerCase();
  return lower.charAt(0).toUpperCase() + lower.slice(1);
}

/** A share (0-1) as a percentage with one decimal, and an agreement figure to three places; "—" where there is none
 *  (no joint vote, or kappa undefined). */
export const percent = (share: number | null) => (share === null ? "—" : `${Math.round(share * 1000) / 10} %`);
export const fixed = (value: number | null) => (value === null ? "—" : value.toFixed(3));
