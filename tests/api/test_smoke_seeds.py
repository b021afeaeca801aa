"""The seeds answer the questions the issue names, on both backends."""

from fastapi.testclient import TestClient


def test_the_us_declined_the_paris_statement_since_2025_02_11(seeded_client: TestClient) -> None:
    body = seeded_client.get("/v1/parties/US/stances", params={"at": "2025-02-12"}).json()
    paris = next(s for s in body["stances"] if s["declaration_id"] == "paris-statement")
    assert (paris["stance"], paris["since"]) == ("declined", "2025-02-11")
    assert paris["sources"]


def test_the_uk_had_no_stance_on_the_paris_statement_on_2025_02_10(seeded_client: TestClient) -> None:
    body = seeded_client.get(
        "/v1/parties/GB/stances", params={"at": "2025-02-10", "declaration": "paris-statement"}
    ).json()
    assert body["stances"] == [
        {"declaration_id": "paris-statement", "title": body["stances"][0]["title"], "stance": "none", "since": None,
         "precision": None, "approximate": False, "confidence": None, "event_id": None, "position": None,
         "sources": [], "explanation": None}
    ]


def test_new_zealand_is_a_bletchley_signatory_at_the_end_of_2024_but_not_in_october(
    seeded_client: TestClient,
) -> None:
    def signed(at: str) -> set[str]:
        body = seeded_client.get("/v1/declarations/bletchley-declaration/signatories", params={"at": at}).json()
        return {s["party"] for s in body["signed"]}

    assert "NZ" in signed("2024-12-31")
    assert "NZ" not in signed("2024-10-01")
    assert len(signed("2024-12-31")) == 30
