"""Eight clients at once over real HTTP, acting and retracting on the same few declarations.

Races are the point: two clients deciding on the same declaration at the same moment make the
store refuse the second save (optimistic concurrency); the service decides that command again on
what the winner stored, and either stores it (201) or refuses it (409) when it is no longer legal.
Afterwards the store must hold every accepted act exactly once, no refused one, and a legal
sequence for every party.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live.faults_support import (
    AUTH,
    BACKENDS,
    REPO,
    SOURCE,
    Server,
    event_id_counts,
    illegal_sequences,
    public_log,
    read_log,
    running,
    store_of_its_own,
    wait_until,
)

CLIENTS = 8
REQUESTS_PER_CLIENT = 60
DECLARATIONS = ("race-one", "race-two", "race-three")
PARTIES = ("FR", "DE", "JP", "BR")
DAYS = [date(2024, 3, 1) + timedelta(days=d) for d in range(6)]


@dataclass
class Sent:
    """One request a client sent and how it was answered."""

    tag: str  # carried in the act's `note` or the retraction's `reason`, to find it in the store
    what: str  # "act" or "retraction"
    status: int
    event_id: str | None
    target: str | None = None  # the event a retraction named


def record(path: Path, name: str, figures: dict[str, Any]) -> None:
    """Keeps the measured figures beside the run (test-artifacts/ is not committed) and prints them."""
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(f"\n{name}: {json.dumps(figures)}")


def client_run(url: str, number: int, start: threading.Barrier, accepted_acts: list[str],
               lock: threading.Lock, sent: list[Sent]) -> None:
    rng = random.Random(1000 + number)
    mine: list[Sent] = []
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
        start.wait(timeout=60)
        for i in range(REQUESTS_PER_CLIENT):
            tag = f"client{number}-request{i}"
            with lock:
                target = rng.choice(accepted_acts) if accepted_acts and rng.random() < 0.25 else None
            if target is not None:
                response = client.post("/v1/retractions", json={"event_id": target, "reason": tag,
                                                                "sources": [SOURCE]})
                what = "retraction"
            else:
                body = {"kind": rng.choice(["signed", "signed", "declined", "withdrawn"]),
                        "party": rng.choice(PARTIES), "occurred_on": rng.choice(DAYS).isoformat(),
                        "note": tag, "sources": [SOURCE], "confidence": "high"}
                response = client.post(f"/v1/declarations/{rng.choice(DECLARATIONS)}/acts", json=body)
                what = "act"
            event_id = response.json().get("event_id") if response.status_code in (201, 202) else None
            mine.append(Sent(tag, what, response.status_code, event_id, target))
            if what == "act" and event_id is not None:
                with lock:
                    accepted_acts.append(event_id)
    with lock:
        sent.extend(mine)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_eight_clients_racing_on_the_same_declarations_store_each_accepted_act_once_and_no_refused_one(
    backend: str, tmp_path: Path
) -> None:
    with store_of_its_own(backend, tmp_path / "store") as store:
        (tmp_path / "store").mkdir(exist_ok=True)
        server = Server(store, tmp_path, DIPLO_WRITE_WAIT_SECONDS="10")
        with running(server):
            server.start()
            with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as setup:
                for slug in DECLARATIONS:
                    created = setup.post("/v1/declarations", json={
                        "id": slug, "title": f"Race {slug}", "published_on": "2024-01-01", "sources": [SOURCE],
                        "confidence": "high"})
                    assert created.status_code == 201, created.text

            sent: list[Sent] = []
            accepted_acts: list[str] = []
            lock = threading.Lock()
            start = threading.Barrier(CLIENTS)
            threads = [threading.Thread(target=client_run, args=(server.url, n, start, accepted_acts, lock, sent))
                       for n in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
            assert not any(t.is_alive() for t in threads), "a client did not finish within 5 minutes"
            assert len(sent) == CLIENTS * REQUESTS_PER_CLIENT

            statuses = Counter(s.status for s in sent)
            assert set(statuses) <= {201, 202, 409}, statuses  # never a 5xx, never a malformed request
            accepted = [s for s in sent if s.status in (201, 202)]
            refused = [s for s in sent if s.status == 409]
            assert accepted and refused, statuses

            wait_until(lambda: httpx.get(f"{server.url}/healthz", timeout=10).json()["lag"] == 0, 60,
                       "the read models to reach the head of the log")
            published = public_log(server.url)
            server_log = server.log()

        # What the store holds, read with the application's own recorder, not through the API.
        stored = read_log(store)
        by_tag: Counter[str] = Counter()
        stored_ids = stored.ids()
        for event in stored.acts():
            by_tag[event.note] += 1
        for event in stored.retractions():
            by_tag[event.reason] += 1
        for s in accepted:
            assert by_tag[s.tag] == 1, (s, by_tag[s.tag])
            assert s.event_id is not None and stored_ids[s.event_id] == 1, s
        for s in refused:
            assert by_tag[s.tag] == 0, s
        assert len(stored.acts()) + len(stored.retractions()) == len(accepted)

        # What the API publishes: each accepted event once, and nothing else besides the declarations.
        in_api = event_id_counts(published)
        assert all(in_api[s.event_id or ""] == 1 for s in accepted)
        assert all(n == 1 for n in in_api.values()), [k for k, n in in_api.items() if n > 1]
        assert len(published) == len(accepted) + len(DECLARATIONS)

        # Every retraction named an act that was accepted; every party's sequence obeys the stance rules.
        accepted_ids = {s.event_id for s in accepted if s.what == "act"}
        assert all(s.target in accepted_ids for s in accepted if s.what == "retraction")
        assert illegal_sequences(store, list(DECLARATIONS)) == []

        retried = server_log.count("optimistic concurrency conflict")
        record(tmp_path, f"concurrent-writers-{backend}", {
            "backend": backend, "clients": CLIENTS, "requests": len(sent),
            "acts_sent": sum(s.what == "act" for s in sent),
            "retractions_sent": sum(s.what == "retraction" for s in sent),
            "answered_201": statuses[201], "answered_202": statuses[202], "answered_409": statuses[409],
            "retried_in_service": retried, "stored_acts": len(stored.acts()),
            "stored_retractions": len(stored.retractions()), "lost": 0, "duplicated": 0,
        })
