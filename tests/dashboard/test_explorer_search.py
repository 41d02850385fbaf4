"""The explorer's search finds Welsh, Spanish and other posts as people type them: in any case (letters outside
ASCII too), a word typed with its accents finding it with or without them (Welsh is often written without its
circumflexes), and a phone's curly apostrophe finding a straight one. A plain ASCII word is matched as typed
(through PostgreSQL's trigram index: accent-folding it cost five times the time, `mention_search_q`)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from servicepulse.dashboard.explorer import ExplorerFilters, explorer_queryset
from tests.factories import MentionFactory, SourceFactory

POSTS = {
    "festival": "Mae'r ŵyl ddigidol yn wych, ond mae'r ffôn newydd yn araf",
    "email": "Dydy'r e-bost ddim yn gweithio",
    "spanish": "El wifi de la biblioteca no funciona desde esta mañana",
    "greek": "Σύνδεση στο Moodle δεν δουλεύει",
    "percent": "print credit at 50% again",
    "plain": "ffon y llyfrgell ddim yn gweithio eto, mae'n araf",
}


def _found(query: str) -> set[str]:
    filters = ExplorerFilters({"q": query})
    return {m.external_id for m in explorer_queryset(filters)}


@pytest.fixture
def posts(db: Any) -> None:
    source = SourceFactory(name="import", kind="file_import")
    for key, text in POSTS.items():
        MentionFactory(source=source, external_id=key, text=text, author="Siân" if key == "email" else "sam")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ŵyl", {"festival"}),
        ("Ŵyl", {"festival"}),  # capital letters outside ASCII: SQLite's LIKE folded ASCII only
        ("FFÔN", {"festival", "plain"}),  # with its accent and as written without it
        ("ffôn araf", {"festival", "plain"}),
        ("ffon", {"plain"}),  # a plain ASCII word is matched as typed
        ("FFON", {"plain"}),
        ("MAÑANA", {"spanish"}),
        ("Siân", {"email"}),  # the author
        ("Dydy\u2019r", {"email"}),  # a phone's curly apostrophe for the post's straight one
        ("mae\u2019n", {"plain"}),
        ("σύνδεση", {"greek"}),
        ("e-bost", {"email"}),
        ("50%", {"percent"}),  # not a pattern: the characters themselves
        ("5.%", set()),
        ("wifi ŵyl", set()),  # every word must appear
    ],
)
def test_search_ignores_case_and_accents(posts: None, query: str, expected: set[str]) -> None:
    assert _found(query) == expected


def test_the_explorer_page_finds_a_welsh_post_by_its_accented_words(
    posts: None, clients: dict[str, Client]
) -> None:
    response = clients["viewer"].get("/mentions/", {"q": "ŵyl FFÔN"})
    assert response.status_code == 200
    assert "ddigidol" in response.content.decode()
    assert "biblioteca" not in response.content.decode()
