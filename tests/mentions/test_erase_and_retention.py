"""Erasing one person's data on request, and per-source retention."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from servicepulse.analysis.models import MentionAnalysis
from servicepulse.analysis.selectors import analysed_posts
from servicepulse.analysis.services import analysis_save
from servicepulse.incidents import explain as explaining
from servicepulse.incidents.models import (
    ActivityType,
    Incident,
    IncidentActivity,
    IncidentKind,
    IncidentState,
)
from servicepulse.incidents.selectors import incident_detail
from servicepulse.incidents.services import incident_add_note, incident_attach_mentions, incident_create
from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.mentions.services import mentions_apply_retention, quarantine_add
from servicepulse.sources.models import Source
from tests.factories import MentionFactory, ServiceFactory, SourceFactory

pytestmark = pytest.mark.django_db


def test_erase_author_removes_their_posts_analysis_and_quarantine_only() -> None:
    source = SourceFactory(name="fb")
    theirs = [MentionFactory(source=source, author="sam.k"), MentionFactory(source=source, author_id="sam.k")]
    others = MentionFactory(source=source, author="alex")
    for mention in [*theirs, others]:
        analysis_save(
            mention=mention,
            complaint=True,
            complaint_score=0.9,
            sentiment="negative",
            sentiment_score=-0.5,
            spam=False,
            spam_score=0.0,
            services=[],
        )
    quarantine_add(
        source=source, raw='{"author": "sam.k", "text": 5}', reason="text must be a string", position=1
    )
    quarantine_add(
        source=source, raw='{"author": "alex", "text": 5}', reason="text must be a string", position=2
    )

    call_command("erase_author", "sam.k", yes=True)

    assert list(Mention.objects.values_list("author", flat=True)) == ["alex"]
    assert list(MentionAnalysis.objects.values_list("mention_id", flat=True)) == [others.pk]
    assert list(Quarantine.objects.values_list("position", flat=True)) == ["2"]


def test_erase_author_takes_their_handle_and_id_out_of_others_raw_payloads() -> None:
    source = SourceFactory(name="reddit")
    MentionFactory(source=source, author="amy_h_nu", author_id="t2_amy", external_id="t3_op")
    reply = MentionFactory(
        source=source,
        author="ben",
        author_id="t2_ben",
        text="same here, amy_h_nu is right",
        raw={"author": "ben", "link_author": "amy_h_nu", "replies": [{"author_fullname": "t2_amy"}]},
    )
    zoe = MentionFactory(source=source, author="carol", raw={"in_reply_to": "zoë", "note": "amy_h_nu's"})

    out = io.StringIO()
    call_command("erase_author", "amy_h_nu", yes=True, stdout=out)

    reply.refresh_from_db()
    zoe.refresh_from_db()
    assert reply.raw == {
        "author": "ben",
        "link_author": "[erased]",
        "replies": [{"author_fullname": "[erased]"}],
    }
    assert reply.text == "same here, amy_h_nu is right"  # another person's words stay as they wrote them
    assert zoe.raw == {"in_reply_to": "zoë", "note": "amy_h_nu's"}  # only whole values are theirs
    assert "other posts whose raw payload named them: 1" in out.getvalue()
    MentionFactory(source=source, author="zoë")
    call_command("erase_author", "zoë", yes=True, stdout=io.StringIO())  # stored JSON-escaped on SQLite
    zoe.refresh_from_db()
    assert zoe.raw == {"in_reply_to": "[erased]", "note": "amy_h_nu's"}

    counted = MentionFactory(source=source, author="dan", raw={"score": "42", "parent_author_id": "42"})
    MentionFactory(source=source, author="eve", author_id="42")
    call_command("erase_author", "eve", yes=True, stdout=io.StringIO())
    counted.refresh_from_db()
    assert counted.raw == {"score": "42", "parent_author_id": "42"}  # a short number is nobody's name


def test_erase_author_limited_to_a_source() -> None:
    a, b = SourceFactory(name="a"), SourceFactory(name="b")
    MentionFactory(source=a, author="kim")
    MentionFactory(source=b, author="kim")
    call_command("erase_author", "kim", source="a", yes=True)
    assert list(Mention.objects.values_list("source__name", flat=True)) == ["b"]


def test_retention_deletes_only_old_posts_of_sources_with_a_period() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    short = SourceFactory(name="short", retention_days=30)
    keep = SourceFactory(name="keep")
    MentionFactory(source=short, created_at=now - timedelta(days=31), external_id="old")
    MentionFactory(source=short, created_at=now - timedelta(days=29), external_id="new")
    MentionFactory(source=keep, created_at=now - timedelta(days=400), external_id="ancient")
    assert mentions_apply_retention(now=now) == 1
    assert sorted(Mention.objects.values_list("external_id", flat=True)) == ["ancient", "new"]


def test_retention_also_deletes_old_quarantined_input_of_sources_with_a_period() -> None:
    now = timezone.now()
    short = SourceFactory(name="short", retention_days=30)
    keep = SourceFactory(name="keep")
    for source, position in ((short, "old"), (short, "new"), (keep, "ancient")):
        quarantine_add(
            source=source,
            raw=f'{{"author": "sam.k", "at": "{position}"}}',
            reason="no text",
            position=position,
        )
    Quarantine.objects.filter(position="old").update(received_at=now - timedelta(days=31))
    Quarantine.objects.filter(position="ancient").update(received_at=now - timedelta(days=400))

    mentions_apply_retention(now=now)

    assert sorted(Quarantine.objects.values_list("position", flat=True)) == ["ancient", "new"]


# ---- incidents: the person's posts attached to an incident -------------------------------------------------


def _complaint(source: Source, *, author: str, text: str, at: datetime) -> Mention:
    mention = MentionFactory(source=source, author=author, author_id="", text=text, created_at=at)
    analysis_save(
        mention=mention,
        complaint=True,
        complaint_score=0.9,
        sentiment="negative",
        sentiment_score=-0.6,
        spam=False,
        spam_score=0.0,
        services=[("wifi", 0.9)],
    )
    return mention


def _wifi_incident() -> Incident:
    """An incident explained by `explain` from four complaints: two by sam.k (the only ones saying
    "library" and "dropping"), one each by alex and jo; a staff note and the title name and quote sam.k."""
    ServiceFactory(id="wifi", name="Eduroam Wi-Fi")
    source = SourceFactory(name="fb")
    began = timezone.now() - timedelta(hours=3)
    for i, text in enumerate(["printer jam on floor two", "password reset page slow", "vpn timeout at home"]):
        _complaint(source, author=f"old{i}", text=text, at=began - timedelta(days=1, minutes=i))
    posts = [
        _complaint(
            source, author="sam.k", text="library eduroam keeps dropping every five minutes", at=began
        ),
        _complaint(
            source, author="sam.k", text="library eduroam dropping again", at=began + timedelta(minutes=5)
        ),
        _complaint(source, author="alex", text="eduroam down in halls", at=began + timedelta(minutes=10)),
        _complaint(source, author="jo", text="eduroam login failing", at=began + timedelta(minutes=15)),
    ]
    incident = incident_create(
        service_id="wifi",
        title="Eduroam drops (first reported by @sam.k)",
        started_at=began,
        kind=IncidentKind.DETECTED,
        state=IncidentState.CONFIRMED,
        at=began,
    )
    incident_attach_mentions(incident=incident, posts=[(m.pk, m.author_key) for m in posts])
    until = began + timedelta(hours=1)
    incident.explanation = explaining.explain(
        service_name="Eduroam Wi-Fi",
        incident_posts=list(analysed_posts(since=began, until=until, service_ids=["wifi"])),
        baseline_posts=list(
            analysed_posts(since=began - timedelta(days=2), until=began, service_ids=["wifi"])
        ),
        started_at=began,
    )
    incident.save()
    incident_add_note(
        incident=incident,
        comment='Sam.K wrote "library eduroam keeps dropping every five minutes"; alex confirmed from halls.',
    )
    return incident


def test_erasing_a_person_takes_them_out_of_the_incidents_they_complained_in() -> None:
    incident = _wifi_incident()
    written = incident.explanation
    # The explanation was written with sam.k in it: the test would pass vacuously otherwise.
    assert "sam.k" in written["authors"] and written["affected_authors"] == 3
    assert {t["term"] for t in written["terms"]} >= {"eduroam", "library", "dropping"}
    assert incident.affected_authors == 3

    out = io.StringIO()
    call_command("erase_author", "sam.k", yes=True, stdout=out)
    assert "incidents they were taken out of: 1" in out.getvalue()  # the command says what else it changed

    incident.refresh_from_db()
    assert incident.affected_authors == 2
    explanation = incident.explanation
    assert sorted(explanation["authors"]) == ["alex", "jo"]
    assert explanation["affected_authors"] == 2
    assert explanation["summary"].startswith("2 complaints about Eduroam Wi-Fi from 2 people since ")
    assert "library" not in explanation["summary"] and "dropping" not in explanation["summary"]
    assert [t["term"] for t in explanation["terms"]] == ["eduroam"]
    assert explanation["terms"][0]["posts"] == 2
    assert explanation["first_hour"] == 2
    stored = json.dumps(explanation, ensure_ascii=False) + incident.title
    stored += "".join(IncidentActivity.objects.filter(incident=incident).values_list("comment", flat=True))
    for trace in ("sam.k", "Sam.K", "library eduroam", "dropping"):
        assert trace not in stored, trace
    assert incident.title == "Eduroam drops (first reported by [erased])"
    note = IncidentActivity.objects.get(incident=incident, type=ActivityType.NOTE).comment
    assert note == '[erased] wrote "[erased]"; alex confirmed from halls.'
    # The incident's page counts and lists what is left.
    detail = incident_detail(incident_id=incident.pk)
    assert detail is not None
    assert sorted(detail.authors) == ["alex (File import)", "jo (File import)"] and detail.people == 2
    assert detail.explanation_note == ""


def test_erasing_someone_not_in_an_incident_leaves_it_as_it_was() -> None:
    incident = _wifi_incident()
    before = (incident.explanation, incident.title, incident.affected_authors)
    MentionFactory(author="kim", text="unrelated")

    call_command("erase_author", "kim", yes=True)

    incident.refresh_from_db()
    assert (incident.explanation, incident.title, incident.affected_authors) == before


def test_erasing_by_platform_id_takes_out_the_name_the_explanation_listed() -> None:
    incident = _wifi_incident()
    Mention.objects.filter(author="jo").update(author_id="42")
    attached_note = IncidentActivity.objects.get(
        incident=incident, type=ActivityType.MENTIONS_ATTACHED
    ).comment

    call_command("erase_author", "42", yes=True)

    incident.refresh_from_db()
    assert incident.affected_authors == 2
    assert "jo" not in incident.explanation["authors"] and "eduroam login failing" not in json.dumps(
        incident.explanation
    )
    # servicepulse's own "4 post(s) attached; 3 people affected" is not taken for the id "42".
    assert IncidentActivity.objects.get(incident=incident, type=ActivityType.MENTIONS_ATTACHED).comment == (
        attached_note
    )


def test_retention_takes_expired_posts_names_and_words_out_of_incident_explanations() -> None:
    incident = _wifi_incident()
    written = incident.explanation
    sam_posts = list(Mention.objects.filter(author="sam.k"))
    assert "sam.k" in written["authors"]
    assert any("library eduroam" in t for t in written["representatives"])  # or the test proves nothing
    Source.objects.filter(name="fb").update(retention_days=30)
    # Only sam.k's two posts (and the old baseline ones) are past the period; alex's and jo's are not.
    Mention.objects.filter(pk__in=[m.pk for m in sam_posts]).update(
        created_at=timezone.now() - timedelta(days=31)
    )

    mentions_apply_retention()

    incident.refresh_from_db()
    assert sorted(incident.explanation["authors"]) == ["alex", "jo"]
    assert not any("library eduroam" in t for t in incident.explanation["representatives"])
    # The incident's history stays: how many people it affected and what they said most.
    assert incident.affected_authors == 3 and incident.explanation["affected_authors"] == 3
    assert incident.explanation["terms"] == written["terms"]
    assert incident.explanation["summary"] == written["summary"]
