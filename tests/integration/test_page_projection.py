"""Applying a page of events at once leaves exactly the rows that applying them one at a time left: the stance
spans against the per-event statements they replace, whatever the page boundaries, recording times (equal,
or out of order) and what the models kept in memory; and the whole projection across page sizes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.bootstrap import Runtime, bootstrap
from api.settings import Settings
from domain.commands import PublishDeclaration, RecordAct, RecordStatement, Retract
from domain.declaration import Declaration
from domain.values import ActKind, Confidence, Precision, at_least, effective_on
from projections.projector import Projector
from projections.readmodel import Item, ReadModel, as_json, timestamp
from projections.stance_history import BOTH_TIMES, THRESHOLDS, StanceHistory, both_times
from projections.store import Sql, SQLiteViewStore, ViewStore
from tests.factories import SOURCES
from tests.integration.support import dump

STANCE_TABLES = ("stance_declarations", "stance_acts", "stance_spans")


def rows_of(store: ViewStore, tables: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    with store.reading() as sql:
        return {t: sorted((tuple(sorted(r.items())) for r in sql.rows(f"SELECT * FROM {t}")), key=repr)
                for t in tables}


# -- the reference: the stance history as it was applied before pages, one event's statements at a time ----


def wanted_spans(
    live: Sequence[dict[str, Any]], party: str, declaration_id: str
) -> dict[tuple[str, str], tuple[Any, ...]]:
    """The spans a pair's live acts (in valid-time order) make, per threshold, keyed (threshold, valid_from):
    (stance, valid_to, event_id, position, precision, confidence, sources)."""
    spans = {}
    for threshold in THRESHOLDS:
        counting = [act for act in live if at_least(act["confidence"], threshold)]
        for i, act in enumerate(counting):
            valid_to = counting[i + 1]["effective_on"] if i + 1 < len(counting) else None
            if valid_to == act["effective_on"]:
                continue
            spans[(threshold, act["effective_on"])] = (act["kind"], valid_to, act["event_id"], int(act["position"]),
                                                       act["precision"], act["confidence"], act["sources"])
    return spans


@dataclass(frozen=True)
class Applied:
    """Where one event sits in the two times, as the event-at-a-time reference models below need it."""

    sql: Sql
    position: int
    recorded_at: str


class OneEventAtATime(StanceHistory):
    """Each act or retraction recorded at T: the pair's open spans, as read from the table, compared one by one
    with those its live acts want; each that differs is deleted if opened at T, else closed at T, and each
    wanted one not open opens at T -- every step its own SQL statement."""

    def apply_page(self, sql: Sql, items: Sequence[Item]) -> None:
        for event, position, recorded_at in items:
            at = Applied(sql, position, recorded_at)
            if isinstance(event, Declaration.Published):
                sql.execute("INSERT INTO stance_declarations (declaration_id, published_on) VALUES (?, ?)",
                            (event.slug, event.published_on.isoformat()))
            elif isinstance(event, Declaration.ActRecorded):
                published = sql.value("SELECT published_on FROM stance_declarations WHERE declaration_id = ?",
                                      (event.declaration_id,))
                counts_from = effective_on(event.occurred_on, event.precision,
                                           date.fromisoformat(published) if published else None)
                sql.execute(
                    "INSERT INTO stance_acts (event_id, position, declaration_id, party, kind, occurred_on,"
                    " effective_on, precision, recorded_at, retracted_at, confidence, sources)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                    (str(event.event_id), position, event.declaration_id, event.party, str(event.kind),
                     event.occurred_on.isoformat(), counts_from.isoformat(), event.precision, recorded_at,
                     event.confidence, as_json(event.sources)),
                )
                self._respan_one(at, event.party, event.declaration_id)
            elif isinstance(event, Declaration.Retracted):
                sql.execute("UPDATE stance_acts SET retracted_at = ? WHERE event_id = ?",
                            (recorded_at, str(event.target_event_id)))
                self._respan_one(at, event.party, event.declaration_id)

    def _live(self, at: Applied, party: str, declaration_id: str) -> list[dict[str, Any]]:
        return at.sql.rows(
            "SELECT event_id, position, kind, effective_on, precision, confidence, sources FROM stance_acts"
            " WHERE party = ? AND declaration_id = ? AND retracted_at IS NULL ORDER BY effective_on, position",
            (party, declaration_id),
        )

    def _open(self, at: Applied, party: str, declaration_id: str, values: Sequence[tuple[Any, ...]]) -> None:
        at.sql.executemany(
            "INSERT INTO stance_spans (party, declaration_id, min_confidence, stance, valid_from, valid_to,"
            " recorded_from, recorded_to, event_id, position, precision, confidence, sources)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
            [(party, declaration_id, threshold, stance, valid_from, valid_to, at.recorded_at, *rest)
             for (threshold, valid_from), (stance, valid_to, *rest) in values],
        )

    def _respan_one(self, at: Applied, party: str, declaration_id: str) -> None:
        wanted = wanted_spans(self._live(at, party, declaration_id), party, declaration_id)
        for row in at.sql.rows(
            "SELECT min_confidence, valid_from, stance, valid_to, event_id, position, precision, confidence, sources,"
            " recorded_from FROM stance_spans WHERE party = ? AND declaration_id = ? AND recorded_to IS NULL",
            (party, declaration_id),
        ):
            key = (row["min_confidence"], row["valid_from"])
            content = (row["stance"], row["valid_to"], row["event_id"], int(row["position"]), row["precision"],
                       row["confidence"], row["sources"])
            if wanted.get(key) == content:
                del wanted[key]
                continue
            where = (" WHERE party = ? AND declaration_id = ? AND min_confidence = ? AND valid_from = ?"
                     " AND recorded_to IS NULL")
            if row["recorded_from"] == at.recorded_at:
                at.sql.execute("DELETE FROM stance_spans" + where, (party, declaration_id, *key))
            else:
                at.sql.execute("UPDATE stance_spans SET recorded_to = ?" + where,
                               (at.recorded_at, party, declaration_id, *key))
        self._open(at, party, declaration_id, list(wanted.items()))


class ReopenEverySpan(OneEventAtATime):
    """The stance history before spans were kept open while unchanged: each act or retraction at T closed every
    open span of the pair at T (deleting those opened at T) and opened all the spans its live acts want."""

    def _respan_one(self, at: Applied, party: str, declaration_id: str) -> None:
        wanted = wanted_spans(self._live(at, party, declaration_id), party, declaration_id)
        at.sql.execute("DELETE FROM stance_spans WHERE party = ? AND declaration_id = ? AND recorded_to IS NULL"
                       " AND recorded_from = ?", (party, declaration_id, at.recorded_at))
        at.sql.execute("UPDATE stance_spans SET recorded_to = ? WHERE party = ? AND declaration_id = ?"
                       " AND recorded_to IS NULL", (at.recorded_at, party, declaration_id))
        self._open(at, party, declaration_id, list(wanted.items()))


# -- synthetic events: the read model reads only their fields, so any recording times can be given ----------

PUBLISHED = {"decl-a": date(2025, 1, 10), "decl-b": date(2025, 3, 1)}
ACT_CLASSES = {ActKind.SIGNED: Declaration.Signed, ActKind.DECLINED: Declaration.Declined,
               ActKind.WITHDRAWN: Declaration.Withdrawn}
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def event(cls: type, **fields: Any) -> Any:
    """An event object as the mapper makes one from a stored event."""
    made: Any = object.__new__(cls)
    object.__setattr__(made, "__dict__", {"originator_id": uuid.uuid4(), "originator_version": 1,
                                          "timestamp": BASE, **fields})
    return made


def published(slug: str) -> Any:
    return event(Declaration.Published, event_id=uuid.uuid4(), slug=slug, title=slug, summit_id=None,
                 published_on=PUBLISHED[slug], notes=None, sources=[s.as_dict() for s in SOURCES],
                 confidence="high")


def act(kind: ActKind, party: str, slug: str, occurred_on: date, precision: str, confidence: str) -> Any:
    return event(ACT_CLASSES[kind], event_id=uuid.uuid4(), declaration_id=slug, party=party,
                 occurred_on=occurred_on, precision=precision, reason=None, note=None,
                 sources=[{"title": f"on {occurred_on}", "url": "https://example.org/a"}], confidence=confidence)


def retraction(target: Any) -> Any:
    return event(Declaration.Retracted, event_id=uuid.uuid4(), declaration_id=target.declaration_id,
                 party=target.party, target_event_id=target.event_id, target_kind=str(target.kind),
                 reason="a correction", sources=[s.as_dict() for s in SOURCES])


def moment(n: int) -> str:
    return timestamp(BASE + timedelta(seconds=n))


def log_of(steps: Sequence[tuple[Any, ...]]) -> list[Item]:
    """The steps as a log: both declarations published first, then acts and retractions of live acts
    (a retraction names its target's party and declaration, as the domain makes it), each at its moment."""
    items = [Item(published(slug), n + 1, moment(0)) for n, slug in enumerate(sorted(PUBLISHED))]
    live: list[Any] = []
    for step in steps:
        if step[0] == "act":
            _, kind, party, slug, occurred_on, precision, confidence, when = step
            made = act(kind, party, slug, occurred_on, precision, confidence)
            live.append(made)
        elif live:
            _, pick, when = step
            made = retraction(live.pop(pick % len(live)))
        else:
            continue
        items.append(Item(made, len(items) + 1, moment(when)))
    return items


steps = st.lists(
    st.one_of(
        st.tuples(st.just("act"), st.sampled_from(list(ActKind)), st.sampled_from(["US", "GB"]),
                  st.sampled_from(sorted(PUBLISHED)),
                  st.sampled_from([date(2025, 1, 1), date(2025, 1, 20), date(2025, 3, 1), date(2025, 3, 15)]),
                  st.sampled_from([str(p) for p in Precision]), st.sampled_from([str(c) for c in Confidence]),
                  # Few moments, drawn in any order: equal and out-of-order recording times are common.
                  st.integers(1, 4)),
        st.tuples(st.just("retract"), st.integers(0, 50), st.integers(1, 4)),
    ),
    min_size=1, max_size=30,
)


def apply_in_pages(store: ViewStore, model: Callable[[], ReadModel], items: Sequence[Item],
                   cuts: Sequence[bool], forgets: Sequence[bool]) -> None:
    """One transaction per page, a page ending after each item whose cut is set; between pages the model is
    either kept (what it remembers carries over) or made afresh (it asks the tables)."""
    current = model()
    with store.transaction() as sql:
        current.create(sql)
    page: list[Item] = []
    for n, item in enumerate(items):
        page.append(item)
        if n == len(items) - 1 or cuts[n % len(cuts)]:
            with store.transaction() as sql:
                current.apply_page(sql, page)
            page = []
            if forgets[n % len(forgets)]:
                current = model()


def test_spans_of_a_page_equal_those_of_one_event_at_a_time_whatever_the_pages_and_recording_times(
    backend: str, fresh_store: Callable[[], ViewStore]
) -> None:
    @hypothesis_settings(
        max_examples=60 if backend == "sqlite" else 15,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps=steps, cuts=st.lists(st.booleans(), min_size=1, max_size=8),
           forgets=st.lists(st.booleans(), min_size=1, max_size=4))
    def same_rows(steps: list[tuple[Any, ...]], cuts: list[bool], forgets: list[bool]) -> None:
        items = log_of(steps)
        reference, paged = fresh_store(), fresh_store()
        try:
            apply_in_pages(reference, OneEventAtATime, items, [True], [False])
            apply_in_pages(paged, StanceHistory, items, cuts, forgets)
            assert rows_of(paged, STANCE_TABLES) == rows_of(reference, STANCE_TABLES)
        finally:
            reference.close()
            paged.close()

    same_rows()


def answers(store: ViewStore, known: Sequence[str]) -> dict[tuple[str, ...], list[tuple[Any, ...]]]:
    """Every pair's stance at each day and known_at and threshold that matters here."""
    days = ["2024-12-31", "2025-01-01", "2025-01-10", "2025-01-20", "2025-02-01", "2025-03-01", "2025-03-15",
            "2025-04-01"]
    found: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    with store.reading() as sql:
        for party in ("US", "GB"):
            for slug in sorted(PUBLISHED):
                for day in days:
                    for known_at in known:
                        for threshold in THRESHOLDS:
                            rows = sql.rows(
                                "SELECT s.stance, s.valid_from, s.valid_to, s.event_id, s.confidence"
                                " FROM stance_spans s WHERE s.party = ? AND s.declaration_id = ?" + BOTH_TIMES,
                                (party, slug, *both_times(day, known_at, threshold)))
                            found[(party, slug, day, known_at, threshold)] = [tuple(r.values()) for r in rows]
    return found


def test_spans_kept_open_while_unchanged_answer_as_reopening_every_span_did_with_fewer_rows(
    backend: str, fresh_store: Callable[[], ViewStore]
) -> None:
    """Keeping unchanged spans open is a change of rows, not of answers: at every day, known_at and threshold
    the stance is the one the old way gave, as long as a pair's recording times never fall (docs/semantics.md,
    section 9: they rise along a declaration's events)."""

    @hypothesis_settings(
        max_examples=80 if backend == "sqlite" else 15,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps=steps, cuts=st.lists(st.booleans(), min_size=1, max_size=8))
    @example(steps=[("act", ActKind.SIGNED, "US", "decl-a", date(2025, 1, 20), "day", "high", 1),
                    ("act", ActKind.WITHDRAWN, "US", "decl-a", date(2025, 3, 15), "day", "medium", 2),
                    ("act", ActKind.SIGNED, "US", "decl-a", date(2025, 1, 1), "month", "low", 3),
                    ("retract", 1, 4)], cuts=[True, False])
    def same_answers(steps: list[tuple[Any, ...]], cuts: list[bool]) -> None:
        items, latest = [], ""
        for item in log_of(steps):
            latest = max(latest, item.recorded_at)
            items.append(Item(item.event, item.position, latest))
        reference, kept_open = fresh_store(), fresh_store()
        try:
            apply_in_pages(reference, ReopenEverySpan, items, [True], [False])
            apply_in_pages(kept_open, StanceHistory, items, cuts, [False])
            known = [moment(n) for n in range(6)] + [timestamp(BASE + timedelta(seconds=n, milliseconds=500))
                                                     for n in range(5)]
            got, expected = answers(kept_open, known), answers(reference, known)
            assert got == expected
            assert all(len(rows) <= 1 for rows in got.values())
            count = "SELECT COUNT(*) FROM stance_spans"
            with kept_open.reading() as a, reference.reading() as b:
                assert a.value(count) <= b.value(count)
        finally:
            reference.close()
            kept_open.close()

    same_answers()


def test_acts_at_one_instant_in_one_page_open_only_the_spans_of_the_last(
    backend: str, fresh_store: Callable[[], ViewStore]
) -> None:
    signed = act(ActKind.SIGNED, "US", "decl-a", date(2025, 1, 20), "day", "high")
    withdrawn = act(ActKind.WITHDRAWN, "US", "decl-a", date(2025, 3, 15), "day", "medium")
    items = [Item(published("decl-a"), 1, moment(0)), Item(signed, 2, moment(1)), Item(withdrawn, 3, moment(1)),
             Item(retraction(withdrawn), 4, moment(2))]
    reference, paged = fresh_store(), fresh_store()
    apply_in_pages(reference, OneEventAtATime, items, [True], [False])
    apply_in_pages(paged, StanceHistory, items, [False], [False])
    got = rows_of(paged, STANCE_TABLES)
    assert got == rows_of(reference, STANCE_TABLES)
    spans = [dict(row) for row in got["stance_spans"]]
    # The signature's low and medium spans opened at 1 were replaced at that instant, never closed; the
    # signature and withdrawal's spans opened at 1 close at 2, when the retraction opens the signature's again.
    # At high, where the medium withdrawal never counted, the signature's span stays open from 1.
    assert sorted((s["min_confidence"], s["stance"], s["recorded_from"], s["recorded_to"]) for s in spans) == sorted(
        [(t, "signed", moment(1), moment(2)) for t in THRESHOLDS[:2]]
        + [(t, "withdrawn", moment(1), moment(2)) for t in THRESHOLDS[:2]]
        + [("high", "signed", moment(1), None)]  # the withdrawal and its retraction never changed it
        + [(t, "signed", moment(2), None) for t in THRESHOLDS[:2]]
    )


# -- the whole projection, from the events the application stores -----------------------------------------


@pytest.fixture
def recorded(settings: Settings) -> Iterator[Runtime]:
    """No projector running; the declarations stored first, so a projector can stop between them and the acts."""
    runtime = bootstrap(settings, start_projector=False)
    app = runtime.app
    app.handle(PublishDeclaration(id="decl-a", title="A", published_on=date(2025, 1, 10), sources=SOURCES,
                            confidence=Confidence.HIGH))
    app.handle(PublishDeclaration(id="decl-b", title="B", published_on=date(2025, 3, 1), sources=SOURCES,
                            confidence=Confidence.MEDIUM))
    yield runtime
    runtime.close()


def record_acts(runtime: Runtime) -> None:
    """Several acts on one pair, an act retracted right after it, one known to its month only, a statement."""
    app = runtime.app

    def record(kind: ActKind, party: str, slug: str, day: date, **more: Any) -> Any:
        return app.handle(RecordAct(declaration_id=slug, kind=kind, party=party, occurred_on=day, sources=SOURCES,
                              confidence=more.pop("confidence", Confidence.HIGH), **more)).event_id

    record(ActKind.SIGNED, "US", "decl-a", date(2025, 1, 20))
    withdrawn = record(ActKind.WITHDRAWN, "US", "decl-a", date(2025, 4, 1), confidence=Confidence.LOW)
    app.handle(Retract(event_id=withdrawn, reason="misreported", sources=SOURCES))
    record(ActKind.WITHDRAWN, "US", "decl-a", date(2025, 5, 1), confidence=Confidence.MEDIUM)
    record(ActKind.SIGNED, "GB", "decl-a", date(2025, 2, 15))
    record(ActKind.DECLINED, "GB", "decl-a", date(2025, 1, 5), precision=Precision.MONTH)  # backfilled; counts
    # from the declaration's publication on the 10th
    signed_b = record(ActKind.SIGNED, "FR", "decl-b", date(2025, 3, 2))
    app.handle(Retract(event_id=signed_b, reason="never signed", sources=SOURCES))
    record(ActKind.DECLINED, "FR", "decl-b", date(2025, 3, 3))
    said = app.handle(RecordStatement(party="FR", occurred_on=date(2025, 3, 4), text="We decline.", sources=SOURCES,
                                about="decl-b"))
    app.handle(Retract(event_id=said.event_id, reason="never said", sources=SOURCES))


def test_acts_recorded_after_their_declarations_page_give_the_rows_of_pages_of_one(
    recorded: Runtime, fresh_store: Callable[[], ViewStore]
) -> None:
    app = recorded.app
    resumed = fresh_store()
    Projector(app.recorder, app.mapper, resumed, page_size=500).catch_up()  # the declarations alone
    record_acts(recorded)
    # A new projector remembers no publication date: each act's comes from the tables.
    Projector(app.recorder, app.mapper, resumed, page_size=500).catch_up()

    one_by_one, whole = fresh_store(), fresh_store()
    Projector(app.recorder, app.mapper, one_by_one, page_size=1, max_page_size=1).catch_up()
    Projector(app.recorder, app.mapper, whole, page_size=500).catch_up()

    expected = dump(one_by_one)
    assert expected["stance_spans"] and any(row for row in expected["timeline"] if "misreported" in repr(row))
    assert dump(whole) == expected
    assert dump(resumed) == expected
    assert rows_of(whole, STANCE_TABLES) == rows_of(one_by_one, STANCE_TABLES) == rows_of(resumed, STANCE_TABLES)


def test_a_page_that_fails_after_writing_leaves_nothing_and_forgets_what_it_kept(
    recorded: Runtime, fresh_store: Callable[[], ViewStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    record_acts(recorded)
    app = recorded.app
    projector = Projector(app.recorder, app.mapper, fresh_store(), page_size=500)
    stances = next(m for m in projector.read_models if isinstance(m, StanceHistory))
    original = StanceHistory.apply_page

    def write_then_fail(self: StanceHistory, sql: Sql, items: Sequence[Item]) -> None:
        original(self, sql, items)
        raise RuntimeError("the store went away after the writes")

    monkeypatch.setattr(StanceHistory, "apply_page", write_then_fail)
    with pytest.raises(RuntimeError, match="after the writes"):
        projector.run_once()
    assert projector.position() == 0
    assert all(not rows for rows in dump(projector.store).values())
    assert stances.published  # it had kept the publication dates of the page that failed ...

    monkeypatch.setattr(StanceHistory, "apply_page", original)
    forgotten = []
    monkeypatch.setattr(stances, "forget", lambda: forgotten.append(True))
    projector.catch_up()
    assert forgotten  # ... and is told to drop them before the next page
    reference = Projector(app.recorder, app.mapper, fresh_store(), page_size=1, max_page_size=1)
    reference.catch_up()
    assert dump(projector.store) == dump(reference.store)


def test_bookkeeping_events_are_never_decoded_and_tracking_moves_past_them(
    recorded: Runtime, fresh_store: Callable[[], ViewStore]
) -> None:
    record_acts(recorded)
    app = recorded.app
    decoded: list[str] = []

    class Counting:
        """The application's mapper, noting each event the projector has it decode."""

        def to_domain_event(self, notification: Any) -> Any:
            decoded.append(notification.topic)
            return app.mapper.to_domain_event(notification)

    projector = Projector(app.recorder, Counting(), fresh_store(), page_size=500)  # type: ignore[arg-type]
    projector.catch_up()

    stored = app.recorder.select_notifications(start=0, limit=10**6)
    assert projector.position() == stored[-1].id
    assert stored[-1].topic.startswith("diplo:internal.")  # the log ends with bookkeeping, passed all the same
    assert decoded == [n.topic for n in stored if not n.topic.startswith("diplo:internal.")]


class Asked:
    """A Sql cursor that remembers every statement it is asked."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self.asked: list[tuple[str, tuple[Any, ...]]] = []

    def rows(self, sql: str, params: Sequence[Any] = (), **options: Any) -> list[dict[str, Any]]:
        self.asked.append((sql, tuple(params)))
        return self.sql.rows(sql, params, **options)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.asked.extend((sql, tuple(row)) for row in rows[:1])
        self.sql.executemany(sql, rows)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.sql.insert(table, columns, rows)  # plain inserts search nothing


def test_a_pages_stance_statements_are_each_keyed_lookups_on_sqlite(tmp_path: Any) -> None:
    store = SQLiteViewStore(tmp_path / "views.sqlite3")
    first = act(ActKind.SIGNED, "US", "decl-a", date(2025, 1, 20), "day", "high")
    with store.transaction() as sql:
        StanceHistory().create(sql)
        StanceHistory().apply_page(sql, [Item(published("decl-a"), 1, moment(0)), Item(first, 3, moment(1))])
    later = act(ActKind.WITHDRAWN, "US", "decl-a", date(2025, 3, 15), "day", "high")
    with store.transaction() as sql:
        asked = Asked(sql)
        StanceHistory().apply_page(asked, [Item(later, 4, moment(2)), Item(retraction(first), 5, moment(3))])  # type: ignore[arg-type]
        plans = {statement: "; ".join(r["detail"] for r in sql.rows("EXPLAIN QUERY PLAN " + statement, params))
                 for statement, params in asked.asked if not statement.startswith("INSERT")}
    store.close()

    assert len(plans) == 5 and all("SCAN stance_" not in plan for plan in plans.values()), plans
    # Each reads through an index (the VALUES list it joins is scanned: it is the page's pairs).
    assert all(plan.split("; ")[-1].startswith("SEARCH ") for plan in plans.values()), plans
    live = next(plan for statement, plan in plans.items() if "FROM (VALUES" in statement)
    assert "SEARCH a USING INDEX stance_acts_by_pair (party=? AND declaration_id=?)" in live
    spans = [plan for statement, plan in plans.items() if "stance_spans" in statement]
    assert len(spans) == 2 and all("min_confidence=? AND" in plan for plan in spans), spans
