"""Sending the weekly report: once per week and address, a bad or refused address not stopping the others."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from freezegun import freeze_time

from servicepulse.experience.models import ReportDelivery
from servicepulse.experience.services import report_email_send
from servicepulse.experience.tasks import weekly_report_send
from tests.mailsink import MailSink

from .conftest import Week


def test_the_weekly_job_run_again_sends_nobody_the_same_week_twice(week: Week, settings) -> None:  # type: ignore[no-untyped-def]
    # Monday 07:00 after the fixture's week: a retried task or a second scheduler ran it twice, and the CIO
    # got the report twice.
    with freeze_time("2026-11-23 07:00:00+00:00"):
        _twice(settings)


def _twice(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_REPORT_RECIPIENTS = ["cio@northgate.example", "dvc@northgate.example"]
    assert weekly_report_send.call() == 2
    assert weekly_report_send.call() == 0
    assert len(mail.outbox) == 2
    # Someone added later gets it on the next run; the others still do not.
    settings.SERVICEPULSE_REPORT_RECIPIENTS = ["CIO@northgate.example", "new@northgate.example"]
    assert weekly_report_send.call() == 1
    assert [m.to for m in mail.outbox] == [
        ["cio@northgate.example"],
        ["dvc@northgate.example"],
        ["new@northgate.example"],
    ]
    assert ReportDelivery.objects.filter(week="2026-W47").count() == 3


def test_a_resend_is_sent_when_asked(week: Week) -> None:
    assert report_email_send(week=week.label, recipients=["cio@northgate.example"]).sent
    again = report_email_send(week=week.label, recipients=["cio@northgate.example"])
    assert again.sent == [] and [a for a, _ in again.already_sent] == ["cio@northgate.example"]
    assert report_email_send(week=week.label, recipients=["cio@northgate.example"], resend=True).sent
    assert len(mail.outbox) == 2


def test_a_bad_address_in_the_list_does_not_stop_the_report(week: Week, settings, caplog) -> None:  # type: ignore[no-untyped-def]
    # With the SMTP backend one mistyped address ("dvc@@northgate.example") failed the whole send: nobody got
    # the report; a name without an @ went to the server as a recipient.
    with MailSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        result = report_email_send(
            week=week.label,
            recipients=[
                "cio@northgate.example",
                "not an address",
                "dvc@@northgate.example",
                "dvc@northgate.example",
            ],
        )
        assert result.sent == ["cio@northgate.example", "dvc@northgate.example"]
        assert result.invalid == ["not an address", "dvc@@northgate.example"]
        assert len(sink.wait_for(2)) == 2


def test_an_address_the_mail_server_refuses_is_reported_and_tried_again_later(week: Week, settings) -> None:  # type: ignore[no-untyped-def]
    with MailSink() as sink:

        async def handle_RCPT(server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
            if address.startswith("gone@"):
                return "550 5.1.1 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        sink.handler.handle_RCPT = handle_RCPT  # type: ignore[attr-defined]
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        result = report_email_send(
            week=week.label, recipients=["gone@northgate.example", "cio@northgate.example"]
        )
        assert result.sent == ["cio@northgate.example"]
        assert [a for a, _ in result.refused] == ["gone@northgate.example"]
        assert "no such mailbox" in result.refused[0][1]
        assert len(sink.wait_for(1)) == 1
    # Not recorded as sent: the next run tries it again.
    assert list(ReportDelivery.objects.values_list("recipient", flat=True)) == ["cio@northgate.example"]


def test_the_command_refuses_a_mistyped_address_and_does_not_resend_unasked(week: Week, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="not an e-mail address: 'cio@northgate'"):
        call_command("report", "--week", week.label, "--email", "cio@northgate")
    assert mail.outbox == []
    call_command("report", "--week", week.label, "--email", "cio@northgate.example")
    call_command("report", "--week", week.label, "--email", "cio@northgate.example")
    assert len(mail.outbox) == 1
    assert "add --resend to send it again" in capsys.readouterr().err
    call_command("report", "--week", week.label, "--email", "cio@northgate.example", "--resend")
    assert len(mail.outbox) == 2


def test_the_subject_says_which_week_in_dates(week: Week) -> None:
    report_email_send(week=week.label, recipients=["cio@northgate.example"])
    assert (
        mail.outbox[0].subject
        == "Northgate University: IT experience report, week 2026-W47 (16 Nov to 22 Nov 2026)"
    )


def test_a_mistyped_recipient_is_named_when_servicepulse_starts(settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.SERVICEPULSE_REPORT_RECIPIENTS = ["cio@uni.example", "dvc@@uni.example"]
    settings.SERVICEPULSE_DIGEST_RECIPIENTS = []
    call_command("check")  # a warning: the report still goes to the others
    with pytest.raises(
        SystemCheckError, match=r"SERVICEPULSE_REPORT_RECIPIENTS: 'dvc@@uni.example' is not an"
    ):
        call_command("check", fail_level="WARNING")
    settings.SERVICEPULSE_REPORT_RECIPIENTS = ["cio@uni.example"]
    call_command("check", fail_level="WARNING")
