"""SQL is written once with `?` placeholders; a literal `?` or `%` (in quotes, a LIKE pattern, a comment, a
modulo) reaches either backend as written, and only the real placeholders take parameters."""

from __future__ import annotations

from collections.abc import Callable

from projections.store import ViewStore, postgres_placeholders


def test_only_the_placeholders_outside_quotes_and_comments_become_psycopgs() -> None:
    assert postgres_placeholders("SELECT 'why?' || ? || '100%'") == "SELECT 'why?' || %s || '100%%'"
    assert postgres_placeholders('SELECT "a?b" FROM t WHERE x LIKE ?') == 'SELECT "a?b" FROM t WHERE x LIKE %s'
    assert postgres_placeholders("SELECT 'it''s?', ? -- why?\n, 7 % 2") == "SELECT 'it''s?', %s -- why?\n, 7 %% 2"
    assert postgres_placeholders("/* ? */ SELECT ?") == "/* ? */ SELECT %s"


def test_literal_question_marks_and_percent_signs_reach_the_store_as_written(
    fresh_store: Callable[[], ViewStore],
) -> None:
    store = fresh_store()
    with store.transaction() as sql:
        sql.execute('CREATE TABLE asked ("what?" TEXT NOT NULL, share TEXT NOT NULL)')
        sql.execute('INSERT INTO asked ("what?", share) VALUES (\'why?\', ?), (?, \'100%\')', ("50%", "how?"))
    with store.reading() as sql:
        assert sql.value("SELECT 'it''s?' || ? || '%' AS said -- a comment? 100%", ("x",)) == "it's?x%"
        assert sql.value('SELECT share FROM asked WHERE "what?" = ? AND share LIKE \'%\\%\' ESCAPE \'\\\'',
                         ("why?",)) == "50%"
        assert sql.rows('SELECT "what?" AS q FROM asked WHERE share LIKE ? ORDER BY 1', ("%0%",)) == [
            {"q": "how?"}, {"q": "why?"}]
        assert sql.value("SELECT 7 % 4 + ? AS n", (1,)) == 4
