from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mailsink import MailSink


@pytest.fixture
def immediate_tasks(settings):  # type: ignore[no-untyped-def]
    """Run django_tasks in-process when enqueued (still only after commit)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def smtp(settings) -> Iterator[MailSink]:  # type: ignore[no-untyped-def]
    """A real SMTP server on 127.0.0.1; Django's SMTP backend pointed at it."""
    with MailSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.BASE_URL = "http://testserver"
        yield sink
