// Live: new acts from GET /v1/events/stream, shown in a feed as they are stored. Open views are told, and
// read again. A browser's EventSource resumes by itself with Last-Event-ID after a dropped connection; on a
// server that wants a read token (which EventSource cannot send) the same stream is read with fetch.

import { api, readToken, url } from "./api";
import { formatDay, h, stanceBadge } from "./dom";
import { declarationHref, partyHref } from "./state";
import type { LogEvent } from "./types";

const KINDS = ["hosted", "published", "signed", "declined", "withdrawn", "statement", "retracted"];
const KEEP = 40;

type Listener = (event: LogEvent) => void;

export function startLive(onEvent: Listener): void {
  const feed = document.getElementById("live-feed") as HTMLOListElement;
  const status = document.getElementById("live-status") as HTMLElement;
  const announcer = document.getElementById("announcer") as HTMLElement;
  let last = 0;

  const setStatus = (state: string, text: string) => {
    status.dataset.state = state;
    status.textContent = text;
  };

  const receive = (event: LogEvent) => {
    if (event.position <= last) return;
    last = event.position;
    const item = feedItem(event);
    feed.prepend(item);
    while (feed.children.length > KEEP) feed.lastElementChild?.remove();
    announcer.textContent = `New in the record: ${item.textContent ?? ""}`;
    onEvent(event);
  };

  const connect = async () => {
    try {
      last = Number((await api.health()).head ?? 0);
    } catch {
      setStatus("error", "The record did not answer; retrying…");
      window.setTimeout(connect, 3000);
      return;
    }
    setStatus("waiting", "Waiting for new acts…");
    if (readToken()) {
      void followWithFetch(() => last, receive, setStatus);
      return;
    }
    const source = new EventSource(url("/v1/events/stream", { after: last }));
    source.onopen = () => setStatus("live", "Live: new acts appear here as they are recorded.");
    source.onerror = () => setStatus("reconnecting", "Connection lost; reconnecting…");
    for (const kind of KINDS) {
      source.addEventListener(kind, (message) => receive(JSON.parse((message as MessageEvent<string>).data) as LogEvent));
    }
  };
  void connect();
}

async function followWithFetch(
  after: () => number, receive: Listener, setStatus: (state: string, text: string) => void,
): Promise<void> {
  for (;;) {
    try {
      const response = await fetch(url("/v1/events/stream", { after: after() }), {
        headers: { Accept: "text/event-stream", Authorization: `Bearer ${readToken()}` },
      });
      if (!response.ok || !response.body) throw new Error(String(response.status));
      setStatus("live", "Live: new acts appear here as they are recorded.");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart());
          if (data.length) receive(JSON.parse(data.join("\n")) as LogEvent);
        }
      }
    } catch {
      /* dropped: wait and resume after the last position received */
    }
    setStatus("reconnecting", "Connection lost; reconnecting…");
    await new Promise((resolve) => window.setTimeout(resolve, 2000));
  }
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function feedItem(event: LogEvent): HTMLLIElement {
  const data = event.data;
  const party = text(data.party);
  const declaration = text(data.declaration_id) || text(data.about);
  const parts: (Node | string)[] = [];
  if (party) parts.push(h("a", { href: partyHref(party), "data-nav": true }, party), " ");
  switch (event.kind) {
    case "signed":
    case "declined":
    case "withdrawn":
      parts.push(stanceBadge(event.kind), " ");
      break;
    case "statement":
      parts.push("said ", h("q", {}, truncate(text(data.text), 90)), " ");
      break;
    case "hosted":
      parts.push("summit ", h("strong", {}, text(data.name)), " ");
      break;
    case "published":
      parts.push("published ", h("a", { href: declarationHref(text(data.slug)), "data-nav": true }, truncate(text(data.title), 70)), " ");
      break;
    case "retracted":
      parts.push(h("strong", {}, "retraction"), ` of an act: ${truncate(text(data.reason), 90)} `);
      break;
    default:
      parts.push(event.kind, " ");
  }
  if (declaration && event.kind !== "published") {
    parts.push(event.kind === "statement" ? "on " : "", h("a", { href: declarationHref(declaration, event.occurred_on), "data-nav": true }, declaration), " ");
  }
  return h("li", { class: "feed-item", "data-position": event.position, "data-kind": event.kind, "data-event-id": event.event_id, "data-party": party },
    h("span", { class: "feed-meta" }, `#${event.position}`, event.occurred_on ? ` · ${formatDay(event.occurred_on, true)}` : "",
      event.approximate ? ` (${String(event.data.precision)})` : ""),
    h("span", { class: "feed-text" }, ...parts));
}

function truncate(value: string, length: number): string {
  return value.length > length ? `${value.slice(0, length - 1)}…` : value;
}
