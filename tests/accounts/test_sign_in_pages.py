"""Around signing in: no local sign-up, the site's 403 page, the e-mails name the organisation (the Site is kept
in step with the settings after every migrate), and the deactivated-account page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sites.models import Site
from django.core import mail
from django.core.management import call_command
from django.test import Client

from servicepulse.accounts.roles import Role
from servicepulse.accounts.services import user_create

pytestmark = pytest.mark.django_db


def test_local_sign_up_is_closed() -> None:
    client = Client()
    page = client.get("/accounts/signup/")
    html = page.content.decode()
    assert "Accounts are made by an administrator" in html
    assert 'name="password1"' not in html and 'class="skip-link"' in html  # the site's layout, no form
    client.post(
        "/accounts/signup/",
        {
            "username": "mallory",
            "email": "mallory@evil.example",
            "password1": "a long enough passphrase 42",
            "password2": "a long enough passphrase 42",
        },
    )
    assert not User.objects.filter(username="mallory").exists()


def test_no_role_gets_an_explained_403_with_a_way_out() -> None:
    nobody = User.objects.create_user(username="newcomer", password="pw")
    client = Client()
    client.force_login(nobody)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "Your account has no role yet" in html and "Ask an administrator to give you one" in html
    assert 'action="/accounts/logout/"' in html and ">Sign out</button>" in html
    nav = re.search(r'<nav aria-label="Main">.*?</nav>', html, re.S)
    assert nav is not None and 'href="/incidents/"' not in nav.group(0)  # no links to pages they cannot open
    assert "/status/" in nav.group(0)


def test_below_the_role_the_403_says_which_role_the_page_needs() -> None:
    viewer = user_create(username="vic", password="pw", role=Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    response = client.get("/catalog/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "This page needs the Admin role." in html
    assert "with the Viewer role" in html and 'href="/incidents/"' in html  # their usual navigation


def test_emails_name_the_organisation_not_example_com(settings: Any) -> None:
    user_create(username="vic", password="pw", role=Role.VIEWER, email="vic@northgate.example")
    Client().post("/accounts/password/reset/", {"email": "vic@northgate.example"})
    Client().post("/accounts/password/reset/", {"email": "stranger@northgate.example"})
    known, unknown = mail.outbox
    assert known.subject.startswith("[Northgate University] ")
    for message in (known, unknown):
        assert "example.com" not in message.subject + message.body
        assert "Hello from Northgate University!" in message.body
    assert "/accounts/signup/" not in unknown.body and "ask an administrator" in unknown.body


def test_site_follows_the_settings_after_migrate(settings: Any) -> None:
    settings.BASE_URL = "https://pulse.northgate.example"
    settings.SERVICEPULSE_ORGANISATION = "Southgate College"
    call_command("migrate", verbosity=0)
    site = Site.objects.get_current()
    assert (site.domain, site.name) == ("pulse.northgate.example", "Southgate College")
