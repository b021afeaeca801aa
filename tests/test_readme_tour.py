"""The README's tour, run: every `curl` in README.md is sent, in the README's order, to a real `diplo serve` on a
freshly seeded store (`diplo seed`: the AI summits' two releases and the General Assembly's two), and the key fields
of the sample shown after it are checked against the answer, so the README cannot drift from what the software says.

Each curl has a check below, keyed by the command as README writes it: a curl added to README without a check, or a
check whose curl is gone, fails the test. Checks compare the answer with the sample itself (`"stance": "declined"`
must be in the sample and in the answer), so a sample that changes or an answer that changes both fail. Other
fields may come and go (the answers grow): only the ones named here are compared.

One store for the whole module, on SQLite (seeding the General Assembly takes 30 to 60 seconds).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SHOWN_BASE = "http://127.0.0.1:8000"
TOKEN = "readme-tour-writer"
DEADLINE = 180.0

pytestmark = pytest.mark.slow


# -- README, read as a reader would -----------------------------------------------------------------------------


@dataclass
class Curl:
    command: str  # as README writes it, whitespace collapsed: the key of its check
    sample: str  # the code block shown after it (or, for a curl in the prose, the rest of its paragraph)
    assigns: str | None  # BEFORE=$(curl …): the variable it sets


def _blocks(text: str) -> list[tuple[str, str, int, int]]:
    """Fenced code blocks: (language, body, start, end) in the text."""
    return [(m.group(1), m.group(2), m.start(), m.end()) for m in re.finditer(r"```(\w*)\n(.*?)```", text, re.S)]


def logical_lines(body: str) -> list[str]:
    """A shell block's command lines: a line ending in \\ or |, or inside an open quote, goes on on the next."""
    lines, pending = [], ""
    for line in body.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        if pending.rstrip().endswith(("\\", "|")):
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # a quote still open
            continue
        lines.append(pending.replace("\\\n", " ").replace("|\n", "| "))
        pending = ""
    return lines


def readme_curls() -> list[Curl]:
    text = README.read_text(encoding="utf-8")
    blocks = _blocks(text)
    found: list[tuple[int, Curl]] = []
    for i, (language, body, start, _end) in enumerate(blocks):
        if language != "sh":
            continue
        sample = next((b for lang, b, _, _ in blocks[i + 1:i + 3] if lang in ("json", "text")), "")
        if i + 1 < len(blocks) and blocks[i + 1][0] == "sh":
            sample = ""  # the next block is a command again: this one has no sample of its own
        for offset, line in enumerate(logical_lines(body)):
            at = line.find("curl ")
            if at < 0:
                continue
            assigned = re.match(r"\s*(\w+)(?:=\$\(|\(\) \{)", line)  # NAME=$(curl …) or a function: name() { curl …
            command = line[at:].split(" |")[0].rstrip(")")
            found.append((start + offset, Curl(" ".join(command.split()), sample,
                                               assigned.group(1) if assigned else None)))
    outside = text
    for _, _, start, end in reversed(blocks):
        outside = outside[:start] + " " * (end - start) + outside[end:]
    for m in re.finditer(r"`(curl [^`]+)`", outside):
        paragraph_end = outside.find("\n\n", m.end())
        found.append((m.start(), Curl(" ".join(m.group(1).split()), outside[m.end():paragraph_end], None)))
    return [curl for _, curl in sorted(found, key=lambda pair: pair[0]) if "…" not in curl.command]


def request_of(command: str, variables: dict[str, str], base: str) -> httpx.Request:
    """The HTTP request a curl command line sends (the options README uses: -s -G -N -X -H -d --data-urlencode)."""
    for name, value in variables.items():
        command = command.replace(f"${name}", value)
    words = shlex.split(command, comments=True)[1:]
    method, headers, data, query, as_get = None, {}, [], [], False
    url = ""
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("-X", "-H", "-d", "--data-urlencode"):
            value = words[i + 1]
            i += 2
            if word == "-X":
                method = value
            elif word == "-H":
                name, _, header = value.partition(":")
                headers[name.strip()] = header.strip()
            elif word == "-d":
                data.append(value)
            else:
                name, _, raw = value.partition("=")
                query.append((name, raw))
            continue
        if word.startswith("-") and not word.startswith("--"):
            as_get = as_get or "G" in word
        elif word.startswith("http"):
            url = word.replace(SHOWN_BASE, base)
        i += 1
    if as_get:
        pairs = [tuple(d.split("=", 1)) for d in data] + query
        joined = "&" if "?" in url else "?"
        return httpx.Request("GET", url + joined + urlencode(pairs), headers=headers)
    if data:
        return httpx.Request(method or "POST", url, headers=headers, content="".join(data).encode())
    return httpx.Request(method or "GET", url, headers=headers)


# -- comparing an answer with its sample --------------------------------------------------------------------------


def flat(text: str) -> str:
    return " ".join(text.split())


def dig(answer: Any, path: str) -> Any:
    for part in path.split("."):
        answer = answer[int(part)] if part.isdigit() else answer[part]
    return answer


def agree(answer: Any, sample: str, *paths: str) -> None:
    """Each field at `path` in the answer is shown with the same value in the sample (`"name": value`)."""
    shown = flat(sample)
    for path in paths:
        value = dig(answer, path)
        pair = f'"{path.rsplit(".", 1)[-1]}": {json.dumps(value, ensure_ascii=False)}'
        assert pair in shown, f"{path}: the answer has {pair}, the README's sample does not"


def entry_of(items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    found = [item for item in items if all(item.get(k) == v for k, v in fields.items())]
    assert len(found) == 1, f"{fields}: {len(found)} entries"
    return found[0]


Check = Callable[[httpx.Response, str, dict[str, str]], None]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def us_stance(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    answer = ok(r)
    agree(answer, sample, "party", "at", "stances.0.declaration_id", "stances.0.title", "stances.0.stance",
          "stances.0.since", "stances.0.precision", "stances.0.approximate", "stances.0.confidence",
          "stances.0.event_id", "stances.0.position", "stances.0.sources.0.title", "stances.0.sources.0.url",
          "stances.0.sources.0.outlet", "stances.0.explanation")


def gb_no_stance(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    answer = ok(r)
    stance = answer["stances"][0]
    assert flat(sample).count('"') >= 2 * (len(stance) + 3), "the sample leaves fields out without …"
    agree(answer, sample, "party", "at", *(f"stances.0.{k}" for k in stance if k != "title"))


def bletchley(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    answer = ok(r)
    assert len(answer["signed"]) == 30
    text = README.read_text(encoding="utf-8")
    assert "*Who had signed the Bletchley Declaration by the end of 2024?* 30 parties" in text
    assert entry_of(answer["signed"], party="NZ")["since"] == "2024-10-23"
    assert entry_of(answer["signed"], party="NZ")["confidence"] == "medium"
    assert entry_of(answer["signed"], party="AE")["since"] == "2023-11-01"
    assert '{"party": "NZ", "since": "2024-10-23", "confidence": "medium"' in flat(sample)
    agree(answer, sample, "declaration_id", "at", "declined", "withdrawn")


def declarations(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    paris = entry_of(ok(r), id="paris-statement")
    agree(paris, sample, "id", "summit.id", "published_on", "counts")


def gb_history(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    entries = ok(r)["entries"]
    lines = [line for line in sample.splitlines() if line.strip()]
    assert len(lines) == len(entries), f"the sample shows {len(lines)} entries, the answer has {len(entries)}"
    for line, e in zip(lines, entries, strict=True):
        head = f"#{e['position']} {e['occurred_on']} {e['kind']}"
        assert flat(line).startswith(head), (line, head)
        assert ("retracted" in line.split('"')[0]) == e["retracted"], line
        if e.get("stance"):
            assert f"stance={e['stance']}" in line, line
        where = e.get("declaration_id") or e.get("summit_id")
        assert where in line, line


def signed_act(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    agree(ok(r, 201), sample, "event_id", "position", "kind", "status", "replayed", "declaration_id", "party",
          "occurred_on", "stance", "previous")


def refused_act(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    agree(ok(r, 409), sample, "type", "title", "status", "detail")


def moment(r: httpx.Response, _sample: str, _v: dict[str, str]) -> None:
    assert ok(r)["known_at"]


def retraction(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    agree(ok(r, 201), sample, "event_id", "position", "kind", "status", "retracted_event_id", "retracted_kind")


def stance_now(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    answer = ok(r)
    assert (answer["stances"][0]["stance"], answer["stances"][0]["since"]) == ("declined", "2025-02-11")
    assert '"stance": "declined", "since": "2025-02-11"' in flat(sample)


def stance_before(r: httpx.Response, sample: str, variables: dict[str, str]) -> None:
    answer = ok(r)
    assert answer["known_at"] == variables["BEFORE"]
    assert (answer["stances"][0]["stance"], answer["stances"][0]["since"]) == ("signed", "2025-03-01")
    assert '"stance": "signed", "since": "2025-03-01"' in flat(sample)


def replay_us_gb(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    frames = [f for f in ok(r)["frames"] if f["changes"]]
    lines = [line for line in sample.splitlines() if re.match(r"\d{4}-\d{2} ", line)]
    assert [line.split()[0] for line in lines] == [f["period"] for f in frames]
    for line, frame in zip(lines, frames, strict=True):
        assert "GB, US" in line
        for change in frame["changes"]:
            assert change["declaration_id"] in line and f"{change['previous']} -> {change['stance']}" in line
    paris = next(f for f in frames if f["period"] == "2025-02")
    assert f"({len(paris['events'])} events" in sample
    statements = [e for e in paris["events"] if e["kind"] == "statement"]
    words = {9: "nine", 3: "three"}
    assert f"{words[len(statements)]} statements, {words[sum(e['retracted'] for e in statements)]} of them retracted" \
        in flat(sample)


def replay_nz(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    answer = ok(r)
    agree(answer, sample, "from", "to", "step", "frames.0.frame", "frames.1.frame", "frames.1.period",
          "frames.1.starts_on", "frames.1.at", "frames.1.state", "frames.1.changes.0.party",
          "frames.1.changes.0.stance", "frames.1.changes.0.previous", "frames.1.changes.0.since",
          "frames.1.changes.0.confidence", "frames.1.changes.0.event_id", "frames.1.changes.0.position",
          "frames.1.events.0.occurred_on", "frames.1.events.0.sources.0.title", "frames.1.events.0.retracted")


def correction_diff(r: httpx.Response, sample: str, variables: dict[str, str]) -> None:
    answer = ok(r)
    assert answer["known_at_a"] == variables["BEFORE"] and answer["known_at_b"] == variables["AFTER"]
    agree(answer, sample, "kind", "at", "differences.0.party", "differences.0.declaration_id",
          "differences.0.before.stance", "differences.0.before.since", "differences.0.before.confidence",
          "differences.0.before.event_id", "differences.0.after.stance", "differences.0.after.event_id",
          "differences.0.stance_changed", "differences.0.events.0.event_id", "differences.0.events.0.kind",
          "differences.0.events.0.position", "differences.0.events.0.reason",
          "differences.0.events.0.retracts.event_id", "differences.0.events.0.retracts.occurred_on", "rollcalls")


def china_search(r: httpx.Response, _sample: str, _v: dict[str, str]) -> None:
    assert "unga-1190" in [rc["id"] for rc in ok(r)["rollcalls"]]


def china_rollcall(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    answer = ok(r)
    assert entry_of(answer["votes"], party="US")["vote"] == "no"
    assert entry_of(answer["votes"], party="SUHH")["vote"] == "yes"
    agree(answer, sample, "id", "body", "session", "date", "precision", "resolution", "title", "tally",
          "description", "release", "confidence", "votes.0.party", "votes.0.vote", "votes.0.event_id",
          "votes.0.position", "retracted")


def votes_of(code: str, as_party: str) -> Check:
    def check(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
        answer = ok(r)
        assert answer["party"] == code and answer["votes"][0]["as_party"] == as_party
        vote = answer["votes"][0]
        line = next(line for line in sample.splitlines() if f'"as_party": "{as_party}"' in line)
        for field in ("rollcall_id", "date", "session", "resolution", "vote", "as_party"):
            assert f'"{field}": {json.dumps(vote[field])}' in line, field
    return check


def releases(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    answer = ok(r)
    assert [x["name"] for x in answer["releases"]] == re.findall(r'"name": "([^"]+)"', sample)
    for i, _release in enumerate(answer["releases"]):
        agree(answer, sample, f"releases.{i}.dataset", f"releases.{i}.first_position",
              f"releases.{i}.last_position", f"releases.{i}.added", f"releases.{i}.retracted",
              f"releases.{i}.corrected")
    agree(answer, sample, "releases.0.events", "releases.2.counts.rollcalls_added", "releases.2.counts.votes_added",
          "releases.3.counts.rollcalls_added", "releases.3.counts.details_corrected")


def issues(expected: list[str]) -> Check:
    def check(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
        assert ok(r)["issues"] == expected
    return check


def release_diff(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    answer = ok(r)
    rollcall = entry_of(answer["rollcalls"], rollcall_id="unga-4630")
    assert answer["differences"] == [] and '"differences": []' in flat(sample)
    agree(rollcall, sample, "rollcall_id", "date", "resolution", "change", "fields", "votes",
          "events.0.kind", "events.0.position", "events.0.release", "events.0.reason")
    agree(answer, sample, "rollcall_counts")


def us_il_agreement(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    answer = ok(r)
    agree(answer, sample, "a", "b", "by", "include")
    figures = ("period", "joint", "identical", "agreement", "kappa")
    agree(answer["periods"][0], sample, *figures)
    agree(answer["periods"][-1], sample, *figures)
    agree(entry_of(answer["periods"], period="2010s"), sample, "period", "joint")


def closest_to_india(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    answer = ok(r)
    agree(answer, sample, "party", "by", "period", "min_joint")
    figures = ("party", "joint", "identical", "agreement", "kappa")
    agree(answer["parties"][0], sample, *figures)
    agree(answer["parties"][-1], sample, *figures)
    for shown in (*answer["parties"][1:3], *answer["too_few"]):
        agree(shown, sample, "party", "joint")
    assert len(answer["too_few"]) == 2


def statements_stream(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    text = r.text
    first = json.loads(next(line for line in text.splitlines() if line.startswith("data: "))[6:])
    assert first["kind"] == "statement"
    agree(first, sample, "position", "event_id", "kind", "occurred_on", "approximate", "data.party", "data.speaker")
    assert f"id: {first['position']}" in sample
    assert text.startswith(": diplomatic timeline event stream") and "retry: 2000" in sample


def stances_csv(r: httpx.Response, sample: str, _: dict[str, str]) -> None:
    assert r.status_code == 200, r.text
    rows = [line.split(",") for line in r.text.splitlines()[1:]]
    shown = [line.split(",") for line in sample.splitlines()[1:] if line.strip()]
    assert r.text.splitlines()[0] == sample.splitlines()[0]
    assert len(rows) == len(shown)
    for row, line in zip(rows, shown, strict=True):
        # at, declaration, party, stance, since, …, event_id, position: all but known_at and the sources' text
        assert row[0] == line[0] and row[2] == line[2] and row[4:12] == line[4:12], (row[:12], line[:12])


def us_timeline(r: httpx.Response, prose: str, _: dict[str, str]) -> None:
    assert r.status_code == 200, r.text
    rows = [json.loads(line) for line in r.text.splitlines()]
    declined = [row for row in rows if row["kind"] == "declined"]
    live = entry_of(declined, retracted=False)
    replaced = entry_of(declined, retracted=True)
    assert f"decline (position {live['position']})" in prose and f"replaced ({replaced['position']}," in prose
    statements = [row for row in rows if row["kind"] == "statement"]
    words = {5: "five", 2: "two"}
    assert f"its {words[len(statements)]} statements, {words[sum(s['retracted'] for s in statements)]} of them " \
           "retracted" in flat(prose)


CHECKS: dict[str, Check] = {
    "curl -s 'http://127.0.0.1:8000/v1/parties/US/stances?at=2025-02-12&declaration=paris-statement'": us_stance,
    "curl -s 'http://127.0.0.1:8000/v1/parties/GB/stances?at=2025-02-10&declaration=paris-statement'": gb_no_stance,
    "curl -s 'http://127.0.0.1:8000/v1/declarations/bletchley-declaration/signatories?at=2024-12-31'": bletchley,
    "curl -s http://127.0.0.1:8000/v1/declarations": declarations,
    "curl -s 'http://127.0.0.1:8000/v1/parties/GB/history?from=2025-01-01'": gb_history,
    "curl -s -X POST http://127.0.0.1:8000/v1/declarations/paris-statement/acts -H \"Authorization: Bearer $TOKEN\" "
    "-H 'Content-Type: application/json' -d '{\"kind\": \"signed\", \"party\": \"GB\", \"occurred_on\": "
    "\"2025-03-01\", \"confidence\": \"low\", \"sources\": [{\"title\": \"Mistaken wire report\", \"url\": "
    "\"https://example.org/wire\"}]}'": signed_act,
    "curl -s -X POST http://127.0.0.1:8000/v1/declarations/paris-statement/acts -H \"Authorization: Bearer $TOKEN\" "
    "-H 'Content-Type: application/json' -d '{\"kind\": \"declined\", \"party\": \"GB\", \"occurred_on\": "
    "\"2025-03-02\", \"confidence\": \"high\", \"sources\": [{\"title\": \"Another wire report\", \"url\": "
    "\"https://example.org/wire-2\"}]}'": refused_act,
    "curl -s 'http://127.0.0.1:8000/v1/parties/GB/stances?declaration=paris-statement'": moment,
    "curl -s -X POST http://127.0.0.1:8000/v1/retractions -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: "
    "application/json' -d '{\"event_id\": \"306f251b-3049-51d6-a8fb-8a35cf4baad2\", \"reason\": \"The wire report "
    "confused the UK with another party; the UK never signed.\", \"sources\": [{\"title\": \"Correction to wire "
    "report\", \"url\": \"https://example.org/wire-correction\"}]}'": retraction,
    "curl -s 'http://127.0.0.1:8000/v1/parties/GB/stances?at=2025-03-02&declaration=paris-statement'": stance_now,
    "curl -sG http://127.0.0.1:8000/v1/parties/GB/stances -d at=2025-03-02 -d declaration=paris-statement "
    "--data-urlencode \"known_at=$BEFORE\"": stance_before,
    "curl -s 'http://127.0.0.1:8000/v1/replay?from=2023-10-01&to=2026-03-31&step=month&party=US&party=GB'":
        replay_us_gb,
    "curl -s 'http://127.0.0.1:8000/v1/replay?from=2024-09-01&to=2024-10-31&party=NZ&declaration=bletchley-declaration'":
        replay_nz,
    "curl -sG http://127.0.0.1:8000/v1/diff -d at=2025-03-02 --data-urlencode \"known_at_a=$BEFORE\" "
    "--data-urlencode \"known_at_b=$AFTER\"": correction_diff,
    "curl -s 'http://127.0.0.1:8000/v1/rollcalls?q=china%20representation&from=1971-01-01&to=1971-12-31'":
        china_search,
    "curl -s http://127.0.0.1:8000/v1/rollcalls/unga-1190": china_rollcall,
    "curl -s 'http://127.0.0.1:8000/v1/parties/RU/votes?include=predecessors&from=1985-01-01&to=1985-12-31&limit=1'":
        votes_of("RU", "SUHH"),
    "curl -s 'http://127.0.0.1:8000/v1/parties/YE/votes?include=predecessors&from=1989-12-01&to=1989-12-31&limit=1'":
        votes_of("YE", "YAR"),
    "curl -s http://127.0.0.1:8000/v1/releases": releases,
    "curl -sG http://127.0.0.1:8000/v1/rollcalls/unga-4630 --data-urlencode \"known_at=$LOADED_2017\" "
    "# \"issues\": [\"di\", \"nu\"]": issues(["di", "nu"]),
    "curl -s http://127.0.0.1:8000/v1/rollcalls/unga-4630 # \"issues\": [\"co\", \"di\", \"nu\"]":
        issues(["co", "di", "nu"]),
    "curl -sG http://127.0.0.1:8000/v1/diff --data-urlencode \"known_at_a=$LOADED_2017\" "
    "--data-urlencode \"known_at_b=$LOADED_2021\"": release_diff,
    "curl -s 'http://127.0.0.1:8000/v1/agreement?a=US&b=IL&by=decade'": us_il_agreement,
    "curl -s 'http://127.0.0.1:8000/v1/parties/IN/closest?period=1995&by=year'": closest_to_india,
    "curl -N 'http://127.0.0.1:8000/v1/events/stream?after=415&kind=statement'": statements_stream,
    "curl -s 'http://127.0.0.1:8000/v1/export/stances?format=csv&declaration=paris-statement&stance=declined"
    "&at=2025-02-12'": stances_csv,
    "curl -s 'http://127.0.0.1:8000/v1/export/timeline?format=jsonl&party=US&declaration=paris-statement'":
        us_timeline,
}


# -- the seeded server ----------------------------------------------------------------------------------------


def diplo() -> str:
    script = Path(sys.executable).with_name("diplo")
    assert script.exists(), f"no diplo beside {sys.executable}: make dev installs it"
    return str(script)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`diplo seed` into a fresh SQLite store (both records, as README's tour assumes), then `diplo serve`."""
    home = tmp_path_factory.mktemp("readme-tour")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLO_")}
    env |= {"DIPLO_DATA_DIR": str(home / "var"), "DIPLO_WRITE_TOKENS": TOKEN}
    seeded = subprocess.run([diplo(), "seed"], cwd=home, env=env, capture_output=True, text=True, timeout=900,
                            check=False)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert "UN General Assembly: not loaded" not in seeded.stdout, seeded.stdout  # the dev extras read it
    port = free_port()
    log = (home / "serve.log").open("w")
    process = subprocess.Popen([diplo(), "serve", "--port", str(port)], cwd=home, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + DEADLINE
        while True:
            assert process.poll() is None, (home / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "diplo serve was not ready in time"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def send(request: httpx.Request) -> httpx.Response:
    """The answer; a stream is read until its first event, as a reader would stop watching it."""
    with httpx.Client(timeout=60) as client:
        if "/stream" not in str(request.url):
            return client.send(request)
        with client.stream(request.method, request.url, headers=request.headers) as streamed:
            text = ""
            for line in streamed.iter_lines():
                text += line + "\n"
                if line.startswith("id: "):
                    break
            return httpx.Response(streamed.status_code, text=text)


# -- the tests ------------------------------------------------------------------------------------------------


def test_every_curl_in_the_readme_has_a_check() -> None:
    shown = {curl.command for curl in readme_curls()}
    assert shown == set(CHECKS), {"without a check": sorted(shown - set(CHECKS)),
                                  "no longer in README": sorted(set(CHECKS) - shown)}


def test_the_readme_tour_answers_as_its_samples_show(server: str) -> None:
    head = ok(httpx.get(f"{server}/healthz", timeout=30))["head"]
    assert f'"head": {head}, "position": {head}' in flat(README.read_text(encoding="utf-8"))
    variables = {"TOKEN": TOKEN}
    loaded = {r["name"]: r["loaded_at"] for r in ok(httpx.get(f"{server}/v1/releases", timeout=30))["releases"]}
    variables |= {"LOADED_2017": loaded["release-2017-03-14"], "LOADED_2021": loaded["release-2021-03-08"]}
    for curl in readme_curls():
        response = send(request_of(curl.command, variables, server))
        if curl.assigns:  # BEFORE=$(curl … | … ["known_at"]): a moment the tour keeps; loaded() { curl …: a helper
            answer = ok(response)
            if curl.assigns.isupper():
                variables[curl.assigns] = answer["known_at"]
            continue
        try:
            CHECKS[curl.command](response, curl.sample, variables)
        except AssertionError as error:
            raise AssertionError(f"README: {curl.command}\n{error}") from None
    assert {"BEFORE", "AFTER"} <= set(variables)
