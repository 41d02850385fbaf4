"""The Users page (admin only): list people, add one (they choose their password through an e-mailed link),
change roles, deactivate and reactivate; nobody can lock the organisation out of its admin role."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client

from servicepulse.accounts.roles import Role, user_role
from servicepulse.accounts.services import AccountError, user_create, user_set_active, user_set_role
from servicepulse.core.times import local_time_text

pytestmark = pytest.mark.django_db


def _role(username: str) -> Role | None:
    return user_role(User.objects.get(username=username))


def _last_message(response: Any) -> str:
    return list(get_messages(response.wsgi_request))[-1].message


def test_only_admins_reach_the_page_and_see_it_in_the_navigation(clients: dict[str, Client]) -> None:
    assert clients["anonymous"].get("/accounts/users/")["Location"].startswith("/accounts/login/")
    for who in ("viewer", "responder"):
        assert clients[who].get("/accounts/users/").status_code == 403
        assert clients[who].get("/accounts/users/new/").status_code == 403
        assert 'href="/accounts/users/"' not in clients[who].get("/").content.decode()
    assert 'href="/accounts/users/"' in clients["admin"].get("/").content.decode()


def test_list_shows_role_email_last_sign_in_and_whether_active(
    clients: dict[str, Client], users: dict[str, User], django_assert_max_num_queries: Any
) -> None:
    viewer = users["viewer"]
    viewer.email, viewer.last_login = "viewer@northgate.example", datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    viewer.save()
    for n in range(15):
        user_create(username=f"person{n}", password="pw", role=Role.RESPONDER)
    User.objects.create(username="ssonobody", is_active=False)

    with django_assert_max_num_queries(8):  # the same however many people there are
        html = clients["admin"].get("/accounts/users/").content.decode()
    row = re.search(rf'<tr>\s*<td><a href="/accounts/users/{viewer.pk}/">.*?</tr>', html, re.S)
    assert row is not None
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row.group(0), re.S)]
    signed_in = local_time_text(viewer.last_login)
    assert signed_in == "2 Mar 2026, 09:30 GMT"
    assert cells[1:] == ["Viewer", "viewer@northgate.example", "password", signed_in, "yes"]
    nobody = re.search(r"ssonobody</strong></a>.*?</tr>", html, re.S)
    assert (
        nobody is not None
        and "<strong>none</strong>" in nobody.group(0)
        and "no (deactivated)" in nobody.group(0)
    )


def test_adding_a_person_mails_a_link_they_use_to_choose_their_password(
    clients: dict[str, Client], settings: Any
) -> None:
    settings.BASE_URL = "https://pulse.northgate.example"
    form = clients["admin"].get("/accounts/users/new/").content.decode()
    assert 'aria-describedby="id_email_helptext"' in form and 'id="id_email_helptext"' in form

    response = clients["admin"].post(
        "/accounts/users/new/", {"username": "ngozi", "email": "ngozi@northgate.example", "role": "responder"}
    )
    ngozi = User.objects.get(username="ngozi")
    assert response["Location"] == f"/accounts/users/{ngozi.pk}/"
    assert _role("ngozi") == Role.RESPONDER and not ngozi.has_usable_password()
    assert (
        _last_message(response) == "Sent ngozi a link to choose their password, to ngozi@northgate.example."
    )

    [message] = mail.outbox
    assert message.to == ["ngozi@northgate.example"]
    assert message.subject == "[Northgate University] Your servicepulse account: choose your password"
    assert "example.com" not in message.body and "Responder role" in message.body
    link = re.search(r"https://pulse\.northgate\.example(/accounts/password/reset/key/\S+)", message.body)
    assert link is not None

    # The person follows the link (allauth's reset-from-key page), chooses a password and signs in with it.
    person = Client()
    page = person.get(link.group(1), follow=True)
    assert page.status_code == 200 and "password1" in page.content.decode()
    chosen = "a long enough passphrase 42"
    done = person.post(page.redirect_chain[-1][0], {"password1": chosen, "password2": chosen})
    assert done.status_code == 302
    signed_in = person.post("/accounts/login/", {"login": "ngozi", "password": chosen})
    assert signed_in.status_code == 302 and person.get("/").status_code == 200
    # The link works once.
    assert "password1" not in Client().get(link.group(1), follow=True).content.decode()


def test_adding_a_person_with_mail_written_to_files_says_where_rather_than_sent(
    clients: dict[str, Client], settings: Any, tmp_path: Any
) -> None:
    # The dev settings' default (`servicepulse run`): nothing reaches a mailbox, so "Sent" would mislead.
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    response = clients["admin"].post(
        "/accounts/users/new/", {"username": "ngozi", "email": "ngozi@northgate.example", "role": "viewer"}
    )
    message = _last_message(response)
    assert not message.startswith("Sent") and f"was written to {tmp_path}" in message
    assert len(list(tmp_path.iterdir())) == 1


def test_add_refuses_a_taken_name_or_address_next_to_the_field(
    clients: dict[str, Client], users: dict[str, User]
) -> None:
    users["viewer"].email = "viewer@northgate.example"
    users["viewer"].save()
    response = clients["admin"].post(
        "/accounts/users/new/", {"username": "VIEWER", "email": "Viewer@northgate.example", "role": "viewer"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and not mail.outbox
    assert re.search(r'id="id_username_error">.*already someone called VIEWER', html, re.S)
    assert re.search(r'id="id_email_error">.*Someone already has this e-mail address', html, re.S)
    assert User.objects.count() == 3


def test_admin_changes_a_role_and_can_take_it_away(
    clients: dict[str, Client], users: dict[str, User]
) -> None:
    url = f"/accounts/users/{users['viewer'].pk}/"
    page = clients["admin"].get(url).content.decode()
    assert '<option value="viewer" selected>' in page
    clients["admin"].post(url, {"action": "role", "role": "responder"})
    assert _role("viewer") == Role.RESPONDER
    response = clients["admin"].post(url, {"action": "role", "role": ""})
    assert _role("viewer") is None
    assert _last_message(response) == "viewer now has no role."
    assert clients["viewer"].get("/").status_code == 403


def test_admins_cannot_demote_or_deactivate_themselves(
    clients: dict[str, Client], users: dict[str, User]
) -> None:
    url = f"/accounts/users/{users['admin'].pk}/"
    page = clients["admin"].get(url).content.decode()
    assert "You cannot remove your own admin role" in page and 'value="deactivate"' not in page
    # Even a crafted request is refused.
    response = clients["admin"].post(url, {"action": "role", "role": "viewer"})
    assert _last_message(response) == "You cannot remove your own admin role: ask another admin to do it."
    response = clients["admin"].post(url, {"action": "deactivate"})
    assert _last_message(response) == "You cannot deactivate yourself: ask another admin to do it."
    admin = User.objects.get(pk=users["admin"].pk)
    assert admin.is_active and user_role(admin) == Role.ADMIN


def test_the_last_active_admin_cannot_be_removed(users: dict[str, User]) -> None:
    boss = user_create(username="boss", password="pw", role=Role.ADMIN)
    boss_client = Client()
    boss_client.force_login(boss)
    boss_client.post(f"/accounts/users/{users['admin'].pk}/", {"action": "deactivate"})  # two admins: fine
    assert not User.objects.get(username="admin").is_active

    # boss is now the only active admin: no one may demote or deactivate them (the CLI passes no `by`).
    with pytest.raises(AccountError, match="boss is the only active admin: make someone else an admin first"):
        user_set_role(user=boss, role=Role.VIEWER)
    with pytest.raises(AccountError, match="boss is the only active admin"):
        user_set_active(user=boss, active=False)
    assert _role("boss") == Role.ADMIN and User.objects.get(username="boss").is_active

    # With another active admin again, boss can be given another role.
    boss_client.post(f"/accounts/users/{users['admin'].pk}/", {"action": "reactivate"})
    user_set_role(user=boss, role=Role.VIEWER)
    assert _role("boss") == Role.VIEWER


def test_deactivated_people_are_signed_out_and_kept(
    clients: dict[str, Client], users: dict[str, User]
) -> None:
    url = f"/accounts/users/{users['responder'].pk}/"
    assert clients["responder"].get("/").status_code == 200
    response = clients["admin"].post(url, {"action": "deactivate"})
    assert "they cannot sign in any more, and what they did stays" in _last_message(response)
    assert clients["responder"].get("/")["Location"].startswith("/accounts/login/")
    refused = Client().post("/accounts/login/", {"login": "responder", "password": "pw"}, follow=True)
    assert refused.redirect_chain[-1][0] == "/accounts/inactive/"
    assert "This account is deactivated" in refused.content.decode()
    assert User.objects.filter(username="responder", is_active=False).exists()

    clients["admin"].post(url, {"action": "reactivate"})
    again = Client()
    assert again.post("/accounts/login/", {"login": "responder", "password": "pw"}).status_code == 302
    assert again.get("/").status_code == 200


def test_an_invitation_can_be_sent_again(clients: dict[str, Client], users: dict[str, User]) -> None:
    url = f"/accounts/users/{users['viewer'].pk}/"
    response = clients["admin"].post(url, {"action": "invite"})
    assert _last_message(response) == "viewer has no e-mail address to send the link to."
    users["viewer"].email = "viewer@northgate.example"
    users["viewer"].save()
    clients["admin"].post(url, {"action": "invite"})
    assert [m.to for m in mail.outbox] == [["viewer@northgate.example"]]


def test_a_mail_failure_keeps_the_person_and_says_what_to_do(
    clients: dict[str, Client], settings: Any
) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on: the SMTP connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    response = clients["admin"].post(
        "/accounts/users/new/", {"username": "ngozi", "email": "ngozi@northgate.example", "role": "viewer"}
    )
    assert response.status_code == 302 and User.objects.filter(username="ngozi").exists()
    assert _last_message(response) == (
        "The e-mail to ngozi@northgate.example could not be sent (ConnectionRefusedError); "
        "check the mail settings, then send it again from here."
    )
