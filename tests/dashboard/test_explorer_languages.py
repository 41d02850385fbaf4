"""A post in Welsh (or any language but English) says, under it in the explorer, that its complaint and
sentiment are English-trained models' reading: a Welsh complaint read as "no" and "neutral" looked like a
fact about the post."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from servicepulse.analysis.services import correction_create
from tests.factories import MentionFactory, SourceFactory, analysed

NOTE = "complaint and sentiment models were trained on English posts"


def _post(source: Any, text: str, language: str) -> Any:
    mention = MentionFactory(source=source, text=text)
    analysed(mention, services=[], complaint=False, sentiment="neutral", language=language)
    return mention


@pytest.mark.django_db
def test_a_welsh_post_says_its_reading_is_the_english_models(clients: dict[str, Client]) -> None:
    source = SourceFactory(name="import", kind="file_import")
    _post(source, "Mae'r e-bost i lawr eto", "cy")
    response = clients["viewer"].get("/mentions/", {"language": "cy"})
    html = response.content.decode()
    assert "Mae&#x27;r e-bost i lawr eto" in html
    assert f"Welsh (cy): servicepulse&#x27;s {NOTE}" in html


@pytest.mark.django_db
def test_english_posts_posts_without_words_and_relabelled_posts_have_no_note(
    clients: dict[str, Client], users: dict[str, Any]
) -> None:
    source = SourceFactory(name="import", kind="file_import")
    _post(source, "email is down again", "en")
    _post(source, "the printer is jammed", "en-GB")  # a platform's regional code is still English
    _post(source, "🙃🙃", "und")
    checked = _post(source, "Dydy'r rhyngrwyd ddim yn gweithio", "cy")
    correction_create(mention=checked, field="complaint", value=True, user=users["responder"])
    correction_create(mention=checked, field="sentiment", value="negative", user=users["responder"])
    html = clients["viewer"].get("/mentions/").content.decode()
    assert "rhyngrwyd" in html and "email is down again" in html and "printer is jammed" in html
    assert NOTE not in html
