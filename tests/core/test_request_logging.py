"""What `django.request` logs, as the settings' LOGGING configures it: a refused page is one line, a crash
keeps its traceback."""

from __future__ import annotations

import logging

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from servicepulse.accounts.roles import Role
from servicepulse.accounts.services import user_create

pytestmark = pytest.mark.django_db


def _crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


# The project's URLs plus one view that fails, for the test marked with this module's URLs.
urlpatterns = [path("crash/", _crash), path("", include("servicepulse.config.urls"))]


def _request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_page_refused_by_a_role_check_is_logged_as_one_line(caplog: pytest.LogCaptureFixture) -> None:
    viewer = user_create(username="vic", password="pw", role=Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/accounts/users/").status_code == 403
    (record,) = _request_records(caplog)
    assert record.exc_info is None and record.exc_text is None
    assert (
        record.getMessage()
        == "Forbidden (Permission denied): /accounts/users/ (this page needs the Admin role)"
    )
    assert "Traceback" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/no-such-page/").status_code == 404
    (record,) = _request_records(caplog)
    assert record.exc_info is None and record.getMessage().startswith("Not Found: /no-such-page/")


@pytest.mark.urls(__name__)
def test_a_crash_is_still_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/crash/").status_code == 500
    (record,) = _request_records(caplog)
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "Traceback" in caplog.text and "RuntimeError: a bug in a view" in caplog.text
