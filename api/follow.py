"""The client side of the event stream, for `diplo follow`: prints acts, resumes after drops."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
from rich.console import Console

from api.terminal import style as style_of
from domain.values import EventKind


def parse_sse(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Server-sent events from a line iterator: one dict (id, event, data, retry) per message."""
    message: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in message or "id" in message:
                yield message
            message = {}
            continue
        if line.startswith(":"):
            continue  # a comment: heartbeat or greeting
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        message[field] = f"{message['data']}\n{value}" if field == "data" and "data" in message else value


def describe(event: dict[str, Any]) -> str:
    data = event["data"]
    kind = event["kind"]
    subject = data.get("declaration_id") or data.get("about") or data.get("slug") or ""
    party = data.get("party") or ",".join(data.get("hosts", []))
    detail = data.get("text") or data.get("title") or data.get("name") or data.get("reason") or ""
    style = style_of(kind)
    day = event["occurred_on"] or ""
    if event.get("approximate"):  # known only to its month or year: show the period, marked as the replay does
        day = (day[:7] if data.get("precision") == "month" else day[:4]) + "~"
    return (f"[dim]#{event['position']}[/dim] {day:10} [{style}]{kind:9}[/] "
            f"{party:6} {subject}  {detail[:80]}")


def follow_stream(url: str, *, after: int | None, parties: list[str], declarations: list[str], kinds: list[EventKind],
                  token: str | None, limit: int | None, console: Console, notes: Console,
                  as_json: bool = False) -> int:
    """Follows until `limit` events were printed (or forever); returns how many were printed. Each event is a line
    for a person, or with `as_json` the event as the stream sends it, one JSON object a line; what befalls the
    connection goes to `notes`."""
    params: list[tuple[str, str | int | float | bool | None]] = [("party", p) for p in parties]
    params += [("declaration", d) for d in declarations] + [("kind", k) for k in kinds]
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    last: int | None = after
    if last is None:  # only what arrives from now on: start after the current head
        last = _head(url, headers)
    printed, delay = 0, 1.0
    while limit is None or printed < limit:
        try:
            request_headers = {**headers, "Last-Event-ID": str(last)}
            with httpx.stream("GET", f"{url}/v1/events/stream", params=params, headers=request_headers,
                              timeout=httpx.Timeout(10, read=60)) as response:
                response.raise_for_status()
                delay = 1.0
                for message in parse_sse(response.iter_lines()):
                    if "retry" in message:
                        delay = max(int(message["retry"]) / 1000, 0.1)
                    if "data" not in message:
                        continue
                    event = json.loads(message["data"])
                    last = int(message.get("id", event["position"]))
                    if as_json:
                        sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
                        sys.stdout.flush()
                    else:
                        console.print(describe(event), highlight=False)
                    printed += 1
                    if limit is not None and printed >= limit:
                        return printed
        except (httpx.TransportError, httpx.HTTPStatusError) as error:
            notes.print(f"[dim]connection lost ({type(error).__name__}); resuming after #{last} "
                          f"in {delay:.0f}s[/dim]")
        time.sleep(delay)
        delay = min(delay * 2, 30.0)
    return printed


def _head(url: str, headers: dict[str, str]) -> int:
    health = httpx.get(f"{url}/healthz", headers=headers, timeout=10).json()
    return int(health.get("head", 0))
