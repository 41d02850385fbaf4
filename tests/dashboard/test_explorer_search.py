"""The explorer's search finds Welsh, Spanish and other posts as people type them: in any case, with or
without accents (Welsh is often typed without its circumflexes), and with a phone's curly apostrophe."""

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
        ("wyl", {"festival"}),  # typed without the circumflex
        ("FFÔN", {"festival"}),
        ("ffon araf", {"festival"}),
        ("manana", {"spanish"}),
        ("MAÑANA", {"spanish"}),
        ("sian", {"email"}),  # the author, typed without the accent
        ("Dydy\u2019r", {"email"}),  # a phone's curly apostrophe for the post's straight one
        ("σύνδεση", {"greek"}),
        ("e-bost", {"email"}),
        ("50%", {"percent"}),  # not a pattern: the characters themselves
        ("5.%", set()),
        ("wifi ŵyl", set()),  # every word must appear
    ],
)
def test_search_ignores_case_and_accents(posts: None, query: str, expected: set[str]) -> None:
    assert _found(query) == expected


def test_the_explorer_page_finds_a_welsh_post_typed_without_accents(
    posts: None, clients: dict[str, Client]
) -> None:
    response = clients["viewer"].get("/mentions/", {"q": "wyl ffon"})
    assert response.status_code == 200
    assert "ddigidol" in response.content.decode()
    assert "biblioteca" not in response.content.decode()
