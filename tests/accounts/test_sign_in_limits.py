"""Signing in is rate-limited per client, password reset says nothing about which addresses have an account, and
a leaver's or demoted person's open sessions lose their access at their very next request."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from servicepulse.accounts.roles import Role
from servicepulse.accounts.services import user_create, user_set_active, user_set_role

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"
TOO_MANY = "Too many failed login attempts"


def _sign_in(client: Client, login: str, password: str) -> tuple[int, str]:
    response = client.post("/accounts/login/", {"login": login, "password": password})
    return response.status_code, response.content.decode()


def test_wrong_passwords_for_one_account_are_limited(users: dict[str, User]) -> None:
    client = Client()
    for _ in range(5):
        assert _sign_in(client, "responder", "wrong")[0] == 200
    status, page = _sign_in(client, "responder", "pw")
    assert status == 200 and TOO_MANY in page  # even the right password waits out the limit


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(users: dict[str, User], settings: Any) -> None:
    settings.SERVICEPULSE_TRUSTED_PROXIES = [PROXY]
    # One client behind the proxy guesses at many accounts: it is stopped by its own address...
    guesser = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9")
    for n in range(10):
        _sign_in(guesser, f"someone{n}", "wrong")
    status, page = _sign_in(guesser, "someone-else", "wrong")
    assert status == 429 or TOO_MANY in page
    # ...while a colleague behind the same proxy still signs in: the proxy's address is not the client's.
    colleague = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert _sign_in(colleague, "viewer", "pw")[0] == 302


def test_password_reset_does_not_say_whether_an_address_has_an_account(users: dict[str, User]) -> None:
    users["responder"].email = "resp@northgate.example"
    users["responder"].save()
    known = Client().post("/accounts/password/reset/", {"email": "Resp@Northgate.example"})
    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@northgate.example"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # Only the mailbox's owner learns the answer.
    assert sorted(m.to[0] for m in mail.outbox) == ["nobody@northgate.example", "resp@northgate.example"]


def test_a_deactivated_persons_open_session_ends_at_their_next_request(users: dict[str, User]) -> None:
    client = Client()
    assert _sign_in(client, "responder", "pw")[0] == 302
    assert client.get("/").status_code == 200
    user_set_active(user=users["responder"], active=False)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_demoted_admin_loses_the_admin_pages_at_their_next_request(users: dict[str, User]) -> None:
    boss = user_create(username="boss", password="pw", role=Role.ADMIN)
    client = Client()
    assert _sign_in(client, "boss", "pw")[0] == 302
    assert client.get("/accounts/users/").status_code == 200
    user_set_role(user=boss, role=Role.VIEWER)
    assert client.get("/accounts/users/").status_code == 403
    assert client.get("/").status_code == 200


def test_the_django_admin_sign_in_is_not_a_way_around_the_limit() -> None:
    User.objects.create_superuser("root", "root@northgate.example", "right-pw")
    client = Client()
    guess = client.post("/admin/login/", {"username": "root", "password": "guess"})
    assert guess.status_code == 302 and guess["Location"].startswith("/accounts/login/?next=")
    for n in range(5):
        _sign_in(client, "root", f"guess{n}")
    status, page = _sign_in(client, "root", "right-pw")
    assert status == 200 and TOO_MANY in page
    assert client.post("/admin/login/", {"username": "root", "password": "right-pw"}).status_code == 302
    assert "_auth_user_id" not in client.session  # still not signed in


def test_the_django_admin_still_opens_for_a_signed_in_superuser() -> None:
    User.objects.create_superuser("root", "root@northgate.example", "right-pw")
    client = Client()
    chain = client.get("/admin/", follow=True).redirect_chain
    assert chain[-1][0].startswith("/accounts/login/?next=")
    assert _sign_in(client, "root", "right-pw")[0] == 302
    assert client.get("/admin/").status_code == 200
