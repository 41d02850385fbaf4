"""The weekly report says how many of the week's posts were in other languages than English, whose complaint and
sentiment readings are the English models' (MODELS.md, "Posts in other languages")."""

from __future__ import annotations

from django.core import mail
from django.test import Client

from servicepulse.analysis.models import MentionAnalysis
from servicepulse.experience.rendering import report_text
from servicepulse.experience.selectors import report_build
from servicepulse.experience.services import report_email_send

from .conftest import MONDAY, Week

LINE = (
    "4 of 27 posts this week were in other languages (Welsh 3, Spanish 1); servicepulse reads complaints and "
    "sentiment in English only, so these count as complaints only where someone relabelled them or they came "
    "through the report-a-problem form, and in the scores as neutral unless someone relabelled them."
)


def _read_in(language: str, *, text: str, count: int) -> None:
    ids = MentionAnalysis.objects.filter(mention__text__startswith=text).order_by("pk")[:count]
    MentionAnalysis.objects.filter(pk__in=list(ids.values_list("pk", flat=True))).update(language=language)


def test_the_report_says_how_many_posts_were_in_other_languages(week: Week, users, client: Client) -> None:  # type: ignore[no-untyped-def]
    # The report counted Welsh and Spanish posts as English ones: neutral, not complaints, without a word.
    _read_in("cy", text="moodle upload error", count=3)
    _read_in("es-ES", text="moodle quiz page", count=1)  # a platform's regional code counts as Spanish
    _read_in("en-GB", text="reading the week 5 slides", count=2)  # English, however it is written
    _read_in("und", text="eduroam is fine", count=1)  # no words: no language to misread
    _read_in("cy", text="best essay help", count=5)  # spam: not among the report's posts
    MentionAnalysis.objects.filter(created_at__lt=MONDAY).update(language="cy")  # the week before
    report = report_build(week=week.label)
    assert report.totals["mentions"] == 27
    assert report.other_languages == [("Welsh", 3), ("Spanish", 1)]
    assert LINE in report_text(report)
    client.force_login(users["viewer"])
    assert LINE in client.get(f"/experience/report/?week={week.label}").content.decode()
    report_email_send(week=week.label, recipients=["cio@northgate.example"])
    message = mail.outbox[-1]
    assert LINE in message.body and LINE in str(message.alternatives[0][0])  # type: ignore[attr-defined]


def test_one_post_in_another_language_is_said_in_the_singular(week: Week) -> None:
    _read_in("cy", text="moodle upload error", count=1)
    assert "1 of 27 posts this week was in another language (Welsh 1);" in report_text(
        report_build(week=week.label)
    )


def test_a_week_in_english_says_nothing_about_languages(week: Week) -> None:
    _read_in("en", text="moodle", count=30)
    MentionAnalysis.objects.filter(created_at__lt=MONDAY).update(language="cy")  # the week before
    report = report_build(week=week.label)
    assert report.other_languages == []
    assert "other languages" not in report_text(report) and "another language" not in report_text(report)
