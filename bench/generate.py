"""Realistic, legal commands for the diplomatic record, deterministic from a seed.

About 200 parties (ISO 3166-1 alpha-2 codes from pycountry), 2,000 declarations (some published at one
of a handful of summits), then `size` formal acts. Each party x declaration pair walks a legal random
walk of the stance rules (none -> signed/declined, signed -> withdrawn, declined -> signed,
withdrawn -> signed/declined). About 10% of the acts are backfills, recorded after acts dated later
than them, placed where they stay legal: a `declined` slipped before a `signed` that followed no stance
or a withdrawal, or the first act of a pair dated in the past. About 1% of the acts are retracted,
always the last live act of a pair in valid time (which is always legal). Statements are mixed in
(about 5% of the acts), and about 3% of the acts are known only to the month.

The retraction commands name their target by event id; ids are deterministic (uuid5 of the
declaration's id and the version), so the stream is replayable into an empty store exactly as written.

    python -m bench.generate --size 10k --seed 7 --out var/bench/acts-10k.jsonl
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pycountry

from domain.values import aggregate_id, event_id_for

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
DEFAULT_SEED = 7
N_PARTIES = 200
N_DECLARATIONS = 2_000
N_SUMMITS = 24
BACKFILL_SHARE = 0.10
RETRACT_SHARE = 0.01
STATEMENT_SHARE = 0.05
MONTH_PRECISION_SHARE = 0.03
FIRST_DAY = date(1990, 1, 1)
LAST_DAY = date(2025, 6, 30)  # every act is in the past, whenever this runs

# The stance a pair may move to next, from its current live stance (None: no stance yet).
NEXT: dict[str | None, tuple[tuple[str, ...], tuple[float, ...]]] = {
    None: (("signed", "declined"), (0.8, 0.2)),
    "signed": (("withdrawn",), (1.0,)),
    "declined": (("signed",), (1.0,)),
    "withdrawn": (("signed", "declined"), (0.6, 0.4)),
}
CITIES = ("Geneva", "Paris", "London", "Seoul", "Vilnius", "New Delhi", "Nairobi", "Brasilia", "Jakarta", "Oslo",
          "Vienna", "Addis Ababa", "Buenos Aires", "Tokyo", "Ottawa", "Rabat")
OUTLETS = ("Reuters", "AP", "AFP", "BBC", "Official journal", "Ministry press release", "UN Treaty Collection")
CONFIDENCE = (("high", "medium", "low"), (0.8, 0.15, 0.05))
POSITIONS = ("supports", "opposes", "neutral")


def parse_size(text: str) -> int:
    """'10k', '100k', '1m' or a plain number of acts."""
    key = text.strip().lower()
    if key in SIZES:
        return SIZES[key]
    if key.endswith("k"):
        return int(float(key[:-1]) * 1_000)
    if key.endswith("m"):
        return int(float(key[:-1]) * 1_000_000)
    return int(key)


def size_label(size: int) -> str:
    for label, n in SIZES.items():
        if n == size:
            return label
    return str(size)


@dataclass
class _Act:
    kind: str
    effective: date  # the date the act counts from (domain.values.effective_on)
    version: int  # the declaration's version that recorded it: its event id follows from it


@dataclass
class _Declaration:
    slug: str
    published_on: date
    version: int = 1

    def next_version(self) -> int:
        self.version += 1
        return self.version


@dataclass
class GenerationStats:
    commands: Counter[str] = field(default_factory=Counter)
    acts: Counter[str] = field(default_factory=Counter)
    backfills: int = 0
    backfills_inserted_before_signature: int = 0
    retractions: int = 0
    month_precision: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "commands": dict(self.commands),
            "acts": dict(self.acts),
            "backfills": self.backfills,
            "backfills_inserted_before_signature": self.backfills_inserted_before_signature,
            "retractions": self.retractions,
            "month_precision": self.month_precision,
        }


class Generator:
    """Iterating yields command dicts: {"command": <service method>, **its arguments as JSON}."""

    def __init__(self, size: int, seed: int = DEFAULT_SEED) -> None:
        self.size = size
        self.seed = seed
        self.stats = GenerationStats()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rng = random.Random(self.seed)
        stats = self.stats = GenerationStats()
        codes = sorted(c.alpha_2 for c in pycountry.countries)
        parties = sorted(rng.sample(codes, N_PARTIES))
        # A few parties act far more often than the rest.
        weights = [1.0 / (rank + 8) for rank in range(N_PARTIES)]
        rng.shuffle(weights)
        cum_weights = []
        total = 0.0
        for w in weights:
            total += w
            cum_weights.append(total)
        source_no = 0

        def sources() -> list[dict[str, Any]]:
            nonlocal source_no
            found = []
            for _ in range(1 if rng.random() < 0.8 else 2):
                source_no += 1
                found.append({"title": f"Report {source_no}", "url": f"https://example.org/reports/{source_no}",
                              "outlet": rng.choice(OUTLETS)})
            return found

        def confidence() -> str:
            return rng.choices(*CONFIDENCE)[0]

        # -- summits and declarations, published first, in publication order -------------------------
        span = (LAST_DAY - FIRST_DAY).days - 365
        published = sorted(FIRST_DAY + timedelta(days=rng.randrange(span)) for _ in range(N_DECLARATIONS))
        declarations = [_Declaration(f"declaration-{i + 1:04d}", day) for i, day in enumerate(published)]
        summit_of: dict[int, str] = {}
        summit_commands = []
        for s, index in enumerate(sorted(rng.sample(range(N_DECLARATIONS), N_SUMMITS))):
            slug = f"summit-{s + 1:02d}"
            ends_on = declarations[index].published_on
            summit_commands.append({
                "command": "host_summit", "id": slug, "name": f"Summit {s + 1}",
                "hosts": sorted(rng.sample(parties, rng.choice((1, 1, 2)))), "city": rng.choice(CITIES),
                "starts_on": (ends_on - timedelta(days=rng.randrange(3))).isoformat(),
                "ends_on": ends_on.isoformat(), "sources": sources(), "confidence": "high",
            })
            # A summit publishes one to three declarations on its last day.
            for j in range(index, min(index + rng.choice((1, 2, 3)), N_DECLARATIONS)):
                if declarations[j].published_on == ends_on:
                    summit_of[j] = slug
        for command in summit_commands:
            stats.commands["host_summit"] += 1
            yield command
        for i, d in enumerate(declarations):
            stats.commands["publish_declaration"] += 1
            yield {"command": "publish_declaration", "id": d.slug, "title": f"Declaration {i + 1}",
                   "summit_id": summit_of.get(i), "published_on": d.published_on.isoformat(),
                   "sources": sources(), "confidence": confidence()}

        # -- acts, following a valid-time clock; backfills, retractions and statements mixed in -----
        live: dict[tuple[int, str], list[_Act]] = {}  # each pair's live acts, in (effective, version) order
        pair_keys: list[tuple[int, str]] = []
        first = declarations[0].published_on
        days = (LAST_DAY - first).days
        eligible = 0  # declarations[:eligible] are published by the clock
        statement_no = 0

        def pick_declaration() -> int:
            if rng.random() < 0.5:
                return rng.randrange(eligible)
            return rng.randrange(max(0, eligible - 50), eligible)

        def pick_party() -> str:
            return rng.choices(parties, cum_weights=cum_weights)[0]

        def act_command(d: int, party: str, kind: str, occurred_on: date, precision: str) -> dict[str, Any]:
            stats.commands["record_act"] += 1
            stats.acts[kind] += 1
            command: dict[str, Any] = {
                "command": "record_act", "declaration_id": declarations[d].slug, "kind": kind, "party": party,
                "occurred_on": occurred_on.isoformat(), "precision": precision, "sources": sources(),
                "confidence": confidence(),
            }
            if kind != "signed" and rng.random() < 0.3:
                command["reason"] = f"{party} gave its reasons in a statement to the press"
            return command

        def insert(key: tuple[int, str], act: _Act) -> None:
            acts = live.setdefault(key, [])
            if not acts:
                pair_keys.append(key)
            bisect.insort(acts, act, key=lambda a: (a.effective, a.version))

        def backfill(clock: date) -> dict[str, Any] | None:
            # (a) a refusal slipped in before a signature that followed no stance or a withdrawal
            if pair_keys and rng.random() < 0.5:
                key = pair_keys[rng.randrange(len(pair_keys))]
                acts = live.get(key, [])
                d = declarations[key[0]]
                for j, act in enumerate(acts):
                    before = acts[j - 1] if j else None
                    if act.kind != "signed" or (before is not None and before.kind != "withdrawn"):
                        continue
                    low = before.effective if before else d.published_on
                    if low >= act.effective:
                        continue
                    day = low + timedelta(days=rng.randrange((act.effective - low).days))
                    insert(key, _Act("declined", day, d.next_version()))
                    stats.backfills += 1
                    stats.backfills_inserted_before_signature += 1
                    return act_command(key[0], key[1], "declined", day, "day")
            # (b) the first act of a pair, dated in the past
            for _ in range(10):
                i = pick_declaration()
                d = declarations[i]
                party = pick_party()
                if (i, party) in live or d.published_on >= clock:
                    continue
                day = d.published_on + timedelta(days=rng.randrange((clock - d.published_on).days))
                kind = rng.choices(*NEXT[None])[0]
                insert((i, party), _Act(kind, day, d.next_version()))
                stats.backfills += 1
                return act_command(i, party, kind, day, "day")
            return None

        def append(clock: date) -> dict[str, Any]:
            i = pick_declaration()
            d = declarations[i]
            party = pick_party()
            acts = live.get((i, party), [])
            last = acts[-1] if acts else None
            kind = rng.choices(*NEXT[last.kind if last else None])[0]
            precision, effective = "day", clock
            if rng.random() < MONTH_PRECISION_SHARE:
                month_start = max(clock.replace(day=1), d.published_on)
                if last is None or month_start >= last.effective:
                    precision, effective = "month", month_start
                    stats.month_precision += 1
            insert((i, party), _Act(kind, effective, d.next_version()))
            return act_command(i, party, kind, clock, precision)

        def retraction() -> dict[str, Any] | None:
            for _ in range(10):
                key = pair_keys[rng.randrange(len(pair_keys))]
                acts = live.get(key)
                if not acts:
                    continue
                target = acts.pop()
                d = declarations[key[0]]
                d.next_version()
                stats.retractions += 1
                stats.commands["retract"] += 1
                return {"command": "retract",
                        "event_id": str(event_id_for(aggregate_id("declaration", d.slug), target.version)),
                        "reason": "the report was mistaken", "sources": sources()}
            return None

        def statement(clock: date) -> dict[str, Any]:
            nonlocal statement_no
            statement_no += 1
            party = pick_party()
            stats.commands["record_statement"] += 1
            about = declarations[pick_declaration()] if rng.random() < 0.7 else None
            low = about.published_on if about else first
            day = low + timedelta(days=rng.randrange((clock - low).days + 1))
            return {"command": "record_statement", "party": party, "speaker": f"Foreign minister of {party}",
                    "occurred_on": day.isoformat(), "text": f"Statement {statement_no}: {party} set out its view.",
                    "about": about.slug if about else None,
                    "position": rng.choice(POSITIONS) if about else None,
                    "sources": sources(), "confidence": confidence()}

        for n in range(self.size):
            clock = first + timedelta(days=days * n // self.size)
            while eligible < N_DECLARATIONS and declarations[eligible].published_on <= clock:
                eligible += 1
            command = backfill(clock) if rng.random() < BACKFILL_SHARE else None
            yield command or append(clock)
            if pair_keys and rng.random() < RETRACT_SHARE and (found := retraction()) is not None:
                yield found
            if rng.random() < STATEMENT_SHARE:
                yield statement(clock)


def generate(size: int, seed: int = DEFAULT_SEED) -> Iterator[dict[str, Any]]:
    """The commands for `size` acts, deterministic from `seed`."""
    return iter(Generator(size, seed))


def write_jsonl(commands: Iterable[dict[str, Any]], path: Path) -> int:
    """Writes one command a line; returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as out:
        for command in commands:
            out.write(json.dumps(command, separators=(",", ":")) + "\n")
            n += 1
    return n


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="10k", help="acts: 10k, 100k, 1m or a number")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, help="JSON-lines file (default: standard output)")
    args = parser.parse_args(argv)
    generator = Generator(parse_size(args.size), args.seed)
    if args.out is None:
        for command in generator:
            sys.stdout.write(json.dumps(command, separators=(",", ":")) + "\n")
    else:
        n = write_jsonl(generator, args.out)
        print(f"wrote {n} commands to {args.out}: {json.dumps(generator.stats.as_dict())}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
