"""“You said, we did”: the weekly draft from complaint themes and what was resolved, saved as a blog draft."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from servicepulse.blog.models import Post
from servicepulse.engage.services import case_open, you_said_we_did_draft
from servicepulse.engage.you_said import Complaint, draft_markdown, draft_title, week_digest
from servicepulse.status.models import IncidentStatus
from servicepulse.status.services import maintenance_schedule, public_incident_open, public_incident_update
from tests.factories import MentionFactory, ServiceFactory

pytestmark = pytest.mark.django_db
UNTIL = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
DAY = UNTIL - timedelta(days=3)


@pytest.fixture
def week(settings):  # type: ignore[no-untyped-def]
    settings.BASE_URL = "https://it.northgate.ac.uk"
    ServiceFactory(id="vle", name="Moodle VLE", aliases=["moodle"])
    ServiceFactory(id="wifi", name="Wi-Fi", aliases=["eduroam"])
    incident = public_incident_open(
        title="Moodle uploads failing", service_ids=["vle"], body="Looking.", at=DAY
    )
    public_incident_update(
        incident=incident,
        status=IncidentStatus.RESOLVED,
        body="We added storage to the upload servers.",
        at=DAY + timedelta(hours=3),
    )
    maintenance_schedule(
        title="eduroam controller upgrade",
        service_ids=["wifi"],
        starts_at=DAY + timedelta(hours=20),
        ends_at=DAY + timedelta(hours=22),
    )
    return incident


def complaints() -> list[Complaint]:
    vle = [
        "moodle upload keeps failing on the assignment page @registry https://x.example/a",
        "cannot upload my essay to moodle before the deadline, upload spins forever",
        "Moodle upload broken again, deadline is tonight",
        "upload times out on moodle, deadline panic",
    ]
    wifi = ["eduroam drops in the library", "wifi in the library is so slow"]
    return [
        *[
            Complaint(mention_id=i, text=t, author_key=f"s:{i}", service_ids=("vle",))
            for i, t in enumerate(vle)
        ],
        *[
            Complaint(mention_id=10 + i, text=t, author_key=f"s:{10 + i}", service_ids=("wifi",))
            for i, t in enumerate(wifi)
        ],
        Complaint(mention_id=99, text="my laptop is broken", author_key="s:99", service_ids=()),
    ]


def test_draft_names_themes_and_what_was_done(week) -> None:  # type: ignore[no-untyped-def]
    digest = week_digest(until=UNTIL, complaints=complaints())
    assert [t.service_id for t in digest.themes] == ["vle", "wifi"]
    vle = digest.themes[0]
    assert (vle.posts, vle.people) == (4, 4)
    assert vle.terms[:2] == ["upload", "deadline"]  # the service's own name and aliases are not themes
    assert "@registry" not in vle.quote and "https://" not in vle.quote
    text = draft_markdown(digest)
    assert draft_title(digest) == "You said, we did: the week of 16 November 2026"
    assert "**Moodle VLE**: 4 of you told us about problems, mostly about “upload”, “deadline”" in text
    assert "**Wi-Fi**: 2 of you" in text and "“library”" in text
    assert "**Moodle uploads failing** (Moodle VLE): resolved on Friday 20 November." in text
    assert "We added storage to the upload servers." in text
    assert f"https://it.northgate.ac.uk/status/incidents/{week.pk}/" in text
    assert "Planned maintenance on Wi-Fi (eduroam controller upgrade) finished" in text
    assert "laptop" not in text  # a post about no known service makes no theme


def test_inbox_answers_are_counted(week, users) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.engage.models import Case

    case = case_open(mention=MentionFactory(created_at=DAY))
    Case.objects.filter(pk=case.pk).update(first_response_at=DAY + timedelta(minutes=40))
    digest = week_digest(until=UNTIL, complaints=[])
    assert (digest.answered, digest.first_response_median) == (1, timedelta(minutes=40))
    assert "We answered 1 of your posts directly, typically within 40 minutes." in draft_markdown(digest)


def test_saved_as_a_blog_draft_once(week) -> None:  # type: ignore[no-untyped-def]
    post, created = you_said_we_did_draft(until=UNTIL)
    assert created and post.title.startswith("You said, we did")
    assert not post.is_published
    assert "you said we did" in [t.name for t in post.tags.all()]
    again, created_again = you_said_we_did_draft(until=UNTIL)
    assert again.pk == post.pk and not created_again
    assert Post.objects.count() == 1


def test_command_prints_the_draft(week, capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("draft_you_said_we_did", "--until", "2026-11-23")
    out = capsys.readouterr().out
    assert out.startswith("# You said, we did: the week of 16 November 2026")
    assert "## You said" in out and "## We did" in out and "Moodle uploads failing" in out
    assert not Post.objects.exists()
    call_command("draft_you_said_we_did", "--until", "2026-11-23", "--save")
    assert Post.objects.count() == 1


def test_cli_entry_point_rejects_a_bad_date() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "servicepulse.cli", "draft-you-said-we-did", "--until", "23/11/2026"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "--until" in result.stderr


def test_we_did_claims_only_confirmed_problems_of_public_services(week) -> None:  # type: ignore[no-untyped-def]
    """The draft said "the problem many of you reported ... is fixed" for every rise detection closed, even
    one that faded unconfirmed (three posts, never an outage), and named services kept off the status page
    in the public post. Now: confirmed problems of public services, with how many people reported them."""
    from servicepulse.incidents.models import IncidentKind, IncidentState
    from servicepulse.incidents.services import incident_create, incident_update_status

    ServiceFactory(id="payroll", name="Staff payroll", public=False)

    def resolved(service_id: str, state: IncidentState, people: int) -> None:
        incident = incident_create(
            service_id=service_id,
            title=f"{service_id}: complaints rising",
            started_at=DAY,
            at=DAY,
            kind=IncidentKind.DETECTED,
            state=state,
            explanation={"affected_authors": people},
        )
        incident_update_status(incident=incident, state=IncidentState.RESOLVED, at=DAY + timedelta(hours=2))

    resolved("wifi", IncidentState.CONFIRMED, 12)
    resolved("wifi", IncidentState.POSSIBLE, 3)  # faded before anyone confirmed it
    resolved("payroll", IncidentState.CONFIRMED, 8)
    maintenance_schedule(
        title="Payroll database move",
        service_ids=["payroll"],
        starts_at=DAY + timedelta(hours=1),
        ends_at=DAY + timedelta(hours=2),
    )
    payroll = [
        Complaint(
            mention_id=50 + i,
            text="payslip page is blank again",
            author_key=f"s:{50 + i}",
            service_ids=("payroll",),
        )
        for i in range(6)
    ]
    digest = week_digest(until=UNTIL, complaints=complaints() + payroll)
    text = draft_markdown(digest)
    assert "- **Wi-Fi**: the problem 12 of you reported from Friday 20 November is fixed." in text
    assert text.count("the problem") == 1 and "many of you" not in text
    assert "payroll" not in text.lower() and "payslip" not in text
    assert [t.service_id for t in digest.themes] == ["vle", "wifi"]


def test_the_quote_under_a_complaint_theme_is_never_praise(week) -> None:  # type: ignore[no-untyped-def]
    """The complaint head sometimes takes praise for a complaint ("the service desk in the library sorted mine
    in 5 mins"), and the draft quoted it under "you told us about problems"."""
    praise = "the service desk in the library sorted my moodle upload in five minutes, brilliant"
    items = [
        Complaint(mention_id=1, text=praise, author_key="s:1", service_ids=("vle",), sentiment=1.0),
        Complaint(mention_id=2, text="moodle upload failed again before my deadline", author_key="s:2",
                  service_ids=("vle",), sentiment=-1.0),
        Complaint(mention_id=3, text="moodle upload spinner forever, twice today", author_key="s:3",
                  service_ids=("vle",), sentiment=0.0),
    ]  # fmt: skip
    quotes = [t.quote for t in week_digest(until=UNTIL, complaints=items).themes]
    assert quotes == ["moodle upload failed again before my deadline"]
    neutral_only = [c for c in items if c.sentiment >= 0]
    quotes = [t.quote for t in week_digest(until=UNTIL, complaints=neutral_only).themes]
    assert quotes == ["moodle upload spinner forever, twice today"]  # a neutral one rather than praise


def test_welsh_complaints_are_summed_up_by_what_is_wrong_not_by_their_grammar(week) -> None:  # type: ignore[no-untyped-def]
    """Welsh "mae'r" (the ... is), "ddim" (not) and "heddiw" (today) were the words the draft said people had
    told us about; the English function words were always left out."""
    welsh = [
        "Mae'r wifi ddim yn gweithio yn y llyfrgell heddiw",
        "Dydy'r eduroam ddim yn cysylltu yn y llyfrgell, mae'r cysylltiad yn torri",
        "Mae'r rhwydwaith yn y llyfrgell wedi torri eto heddiw",
    ]
    digest = week_digest(
        until=UNTIL,
        complaints=[
            Complaint(mention_id=i, text=t, author_key=f"s:{i}", service_ids=("wifi",))
            for i, t in enumerate(welsh)
        ],
    )
    assert digest.themes[0].terms[:2] == ["llyfrgell", "torri"]  # library, broken
