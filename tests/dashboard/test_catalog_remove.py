"""The catalogue's "Remove": a confirmation page first; a service with history is kept and the page says what
keeps it and what to do instead; only a service without history is removed, by the POST from that page.
And the catalogue form shows only the real error for a name that is too long."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from servicepulse.analysis.models import ServiceTag
from servicepulse.catalog.models import Service
from tests.factories import ServiceFactory


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.django_db
def test_the_catalogue_links_remove_to_a_confirmation_page(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    html = clients["admin"].get("/catalog/").content.decode()
    # A GET form: the button opens the confirmation page, it does not remove.
    assert '<form method="get" action="/catalog/vle/delete/">' in html
    assert 'method="post" action="/catalog/vle/delete/"' not in html


@pytest.mark.django_db
def test_a_service_with_history_is_kept_and_the_page_says_why(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    admin = clients["admin"]
    tags = ServiceTag.objects.filter(service_id="vle").count()
    assert tags > 0

    page = admin.get("/catalog/vle/delete/")
    assert page.status_code == 200
    text = _text(page.content.decode())
    assert "Moodle VLE cannot be removed: it has history" in text
    assert f"{tags} tagged posts" in text
    assert "Mark it not public" in text and "Rename it" in text
    assert 'href="/catalog/vle/"' in page.content.decode()  # the edit page, to do either
    assert 'action="/catalog/vle/delete/"' not in page.content.decode()  # no button to remove it

    # A POST anyway (an old tab, a crafted request) is refused the same way; nothing is deleted.
    refused = admin.post("/catalog/vle/delete/")
    assert refused.status_code == 409
    assert f"{tags} tagged posts" in _text(refused.content.decode())
    assert Service.objects.filter(id="vle").exists()
    assert ServiceTag.objects.filter(service_id="vle").count() == tags


@pytest.mark.django_db
def test_a_service_without_history_is_removed_after_the_confirmation(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    ServiceFactory(id="test-entry", name="Test entry")
    admin = clients["admin"]

    page = admin.get("/catalog/test-entry/delete/")
    html = page.content.decode()
    assert page.status_code == 200 and "has no tagged posts, incidents, tickets or other history" in _text(
        html
    )
    assert 'method="post" action="/catalog/test-entry/delete/"' in html
    assert Service.objects.filter(id="test-entry").exists()  # looking is not removing

    response = admin.post("/catalog/test-entry/delete/")
    assert response.status_code == 302 and response["Location"] == "/catalog/"
    assert [m.message for m in get_messages(response.wsgi_request)] == [
        "Removed Test entry from the catalogue."
    ]
    assert not Service.objects.filter(id="test-entry").exists()


@pytest.mark.django_db
def test_only_admins_see_or_use_the_confirmation(world: dict[str, Any], clients: dict[str, Client]) -> None:
    ServiceFactory(id="test-entry", name="Test entry")
    for role in ("viewer", "responder"):
        assert clients[role].get("/catalog/test-entry/delete/").status_code == 403
        assert clients[role].post("/catalog/test-entry/delete/").status_code == 403
    anonymous = clients["anonymous"].post("/catalog/test-entry/delete/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Service.objects.filter(id="test-entry").exists()


@pytest.mark.django_db
def test_a_name_too_long_shows_only_that_error(users: Any, clients: dict[str, Client]) -> None:
    response = clients["admin"].post("/catalog/new/", {"id": "", "name": "x" * 201, "sensitivity": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ensure this value has at most 200 characters (it has 201)." in html
    assert "Give the service an id or a name that makes one" not in html
    assert not Service.objects.exists()


@pytest.mark.django_db
def test_a_missing_name_shows_only_that_error(users: Any, clients: dict[str, Client]) -> None:
    html = clients["admin"].post("/catalog/new/", {"id": "", "name": "", "sensitivity": "1"}).content.decode()
    assert "This field is required." in html
    assert "Give the service an id or a name that makes one" not in html


@pytest.mark.django_db
def test_a_name_that_makes_no_id_still_says_so(users: Any, clients: dict[str, Client]) -> None:
    html = (
        clients["admin"].post("/catalog/new/", {"id": "", "name": "!!!", "sensitivity": "1"}).content.decode()
    )
    assert "Give the service an id or a name that makes one." in html
