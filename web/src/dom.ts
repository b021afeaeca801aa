// A very small helper to build DOM nodes legibly, and the few formatting functions every view uses.

type Attr = string | number | boolean | null | undefined | ((event: Event) => void);
export type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, Attr> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, Attr> = {},
  ...children: (Child | Child[])[]
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node: Element, attrs: Record<string, Attr>): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === "function") node.addEventListener(key.replace(/^on/, ""), value);
    else if (value === true) node.setAttribute(key, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
}

export function append(node: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

const LONG = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
const SHORT = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

/** "2025-02-11" -> "11 February 2025" (or "11 Feb 2025" when short). */
export function formatDay(day: string, short = false): string {
  const date = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : (short ? SHORT : LONG).format(date);
}

export function formatMoment(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${SHORT.format(date)}, ${date.toISOString().slice(11, 19)} UTC`;
}

export const DAY_MS = 86_400_000;

export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

export function dayToNumber(day: string): number {
  return Math.round(Date.parse(`${day}T00:00:00Z`) / DAY_MS);
}

export function numberToDay(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return numberToDay(dayToNumber(day) + days);
}

/** The words and symbol shown with every stance, so that colour is never the only cue. */
export const STANCE_TEXT: Record<string, { word: string; symbol: string }> = {
  signed: { word: "signed", symbol: "✓" },
  declined: { word: "declined", symbol: "✗" },
  withdrawn: { word: "withdrawn", symbol: "↩" },
  none: { word: "no stance", symbol: "·" },
};

export function stanceBadge(stance: string): HTMLElement {
  const text = STANCE_TEXT[stance] ?? { word: stance, symbol: "" };
  return h("span", { class: "badge", "data-stance": stance },
    h("span", { class: "swatch", "aria-hidden": "true" }),
    h("span", { "aria-hidden": "true" }, text.symbol), " ", text.word);
}

/** Links to an act's sources: the outlet (or host) as the link text, the full title on hover and for screen readers. */
export function sourceLinks(sources: { title: string; url: string; outlet: string | null }[]): HTMLElement {
  if (!sources.length) return h("span", { class: "muted" }, "no source");
  return h("ul", { class: "sources" }, sources.map((source) =>
    h("li", {}, h("a", { href: source.url, target: "_blank", rel: "noopener noreferrer", title: source.title },
      source.outlet || hostOf(source.url), h("span", { class: "sr-only" }, `: ${source.title}`)))));
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^www\./, "");
  } catch {
    return url;
  }
}

/** Runs `render`, which replaces part of `container`, and puts the focus back on the same link or button
 *  (found by its href, event id or summit) so that a live update does not throw a keyboard user out. */
export async function keepingFocus(container: HTMLElement, render: () => unknown): Promise<void> {
  const active = document.activeElement;
  let selector: string | null = null;
  if (active instanceof HTMLElement && container.contains(active)) {
    const id = active.getAttribute("data-event-id");
    const summit = active.getAttribute("data-summit");
    const link = active.getAttribute("href");
    if (id) selector = `${active.tagName}[data-event-id="${CSS.escape(id)}"]`;
    else if (summit) selector = `${active.tagName}[data-summit="${CSS.escape(summit)}"]`;
    else if (link) selector = `a[href="${CSS.escape(link)}"]`;
  }
  await render();
  if (selector && !container.contains(document.activeElement)) (container.querySelector(selector) as HTMLElement | null)?.focus();
}
