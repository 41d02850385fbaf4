"""The inbox item page's actions from the browser's side: every form either does what it says or says why
not (never a silent redirect, never a 500), and saved replies fill in on a post nobody has opened yet."""

from __future__ import annotations

import pytest

from servicepulse.analysis.services import analysis_save
from servicepulse.engage.models import Case, CaseActivity, SavedReply
from servicepulse.status.models import PublicIncident
from tests.factories import MentionFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


def test_a_saved_reply_fills_in_on_a_new_post(client, users, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BASE_URL = "https://it.northgate.ac.uk"
    from tests.engage.helpers import slack_source

    ServiceFactory(id="vle", name="Moodle VLE")
    mention = MentionFactory(author="maya", source=slack_source())  # a channel a reply can be posted on
    analysis_save(
        mention=mention,
        complaint=True,
        complaint_score=0.9,
        sentiment="negative",
        sentiment_score=-0.8,
        spam=False,
        spam_score=0.01,
        services=[("vle", 0.9)],
    )
    saved = SavedReply.objects.create(
        title="Known outage", body="Hi {author}, {service} is down: {status_url}"
    )
    client.force_login(users["responder"])
    page = client.get(f"/inbox/m/{mention.pk}/?saved={saved.pk}").content.decode()
    assert "Hi maya, Moodle VLE is down: https://it.northgate.ac.uk/status/" in page
    assert not Case.objects.exists()  # reading the page opens no case
    assert client.get(f"/inbox/m/{mention.pk}/?saved=abc").status_code == 200
    assert client.get(f"/inbox/m/{mention.pk}/?saved=99999").status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "reply", "text": "   "}, "Reply: This field is required."),
        ({"action": "note", "text": "  "}, "Internal note: This field is required."),
        ({"action": "recorded", "text": ""}, "Reply: This field is required."),
        ({"action": "state", "state": "sideways"}, "Select a valid choice"),
        ({"action": "assign"}, "assign to a person or a team"),
        ({"action": "link", "public_incident": "abc"}, "That public incident does not exist."),
        ({"action": "link", "public_incident": "99999"}, "That public incident does not exist."),
        ({"action": "dance"}, "Unknown action."),
    ],
)
def test_an_action_that_cannot_be_done_says_why(client, users, data, message) -> None:  # type: ignore[no-untyped-def]
    mention = MentionFactory()
    client.force_login(users["responder"])
    response = client.post(f"/inbox/m/{mention.pk}/", data, follow=True)
    assert response.status_code == 200
    said = messages_of(response)
    assert any(message in m for m in said), said
    assert not CaseActivity.objects.exists()  # nothing was done
    assert PublicIncident.objects.count() == 0


def test_bulk_assign_without_anyone_is_one_error_and_next_stays_on_this_site(client, users) -> None:  # type: ignore[no-untyped-def]
    ServiceFactory(team="desk")
    posts = MentionFactory.create_batch(3)
    client.force_login(users["responder"])
    data = {"mention": [str(m.pk) for m in posts], "bulk_action": "assign"}
    response = client.post("/inbox/bulk/", {**data, "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    said = messages_of(client.get("/inbox/"))
    assert said == ["assign to a person or a team"]  # not "0 updated." and one error per post
    response = client.post("/inbox/bulk/", {**data, "team": "desk", "next": "/inbox/?state=all"})
    assert response["Location"] == "/inbox/?state=all"
    assert set(Case.objects.values_list("team", flat=True)) == {"desk"}
    client.post("/inbox/bulk/", {**data, "team": "no such team"})
    assert any("Team: Select a valid choice" in m for m in messages_of(client.get("/inbox/")))


def test_response_times_page_ignores_a_bad_number_of_days(client, users) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["viewer"])
    for days in ("abc", "-3", "1e9", ""):
        assert client.get(f"/inbox/times/?days={days}").status_code == 200


def test_a_source_that_cannot_reply_says_so_before_anyone_writes(client, users) -> None:  # type: ignore[no-untyped-def]
    import re

    from servicepulse.sources.models import SourceKind
    from tests.factories import SourceFactory

    rss = MentionFactory(source=SourceFactory(kind=SourceKind.RSS, name="IT news comments"))
    from tests.engage.helpers import slack_source

    slack = MentionFactory(source=slack_source())
    client.force_login(users["responder"])
    page = client.get(f"/inbox/m/{rss.pk}/").content.decode()
    assert "A reply cannot be posted here: RSS/Atom feed has no way to post a reply" in page
    assert 'value="reply"' not in page  # no reply box to write into and lose
    for html in (page, client.get(f"/inbox/m/{slack.pk}/").content.decode()):
        ids = re.findall(r'\sid="([^"]+)"', html)
        assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})  # id_text was twice


def test_an_item_nobody_touched_says_so_in_words_not_as_a_numbered_step(client, users) -> None:  # type: ignore[no-untyped-def]
    mention = MentionFactory(text="is moodle down?")
    client.force_login(users["viewer"])
    page = client.get(f"/inbox/m/{mention.pk}/").content.decode()
    # "1. Nothing yet." read as the first step of the activity.
    assert "<li>Nothing yet" not in page
    assert "Nothing yet: nobody has assigned, answered or noted this post." in page
    client.force_login(users["responder"])
    client.post(f"/inbox/m/{mention.pk}/", {"action": "note", "text": "checking with IAM"})
    page = client.get(f"/inbox/m/{mention.pk}/").content.decode()
    assert "Nothing yet" not in page and "checking with IAM" in page


def test_bulk_assign_leaves_a_colleagues_cases_with_them_unless_taking_over(client, users) -> None:  # type: ignore[no-untyped-def]
    theirs, free = MentionFactory(), MentionFactory()
    both = {"mention": [str(theirs.pk), str(free.pk)], "bulk_action": "assign"}
    # The admin takes one post from its page; then the responder bulk-assigns both posts to themself.
    client.force_login(users["admin"])
    client.post(f"/inbox/m/{theirs.pk}/", {"action": "assign", "assignee": users["admin"].pk})
    client.force_login(users["responder"])
    client.post("/inbox/bulk/", {**both, "assignee": users["responder"].pk})
    said = messages_of(client.get("/inbox/"))
    assert "1 updated." in said
    assert any(m.startswith("1 case was left with admin") and "Take over" in m for m in said), said
    holders = dict(Case.objects.values_list("mention_id", "assignee__username"))
    assert holders == {theirs.pk: "admin", free.pk: "responder"}
    assert CaseActivity.objects.filter(case__mention=theirs, kind="assign").count() == 1  # nothing logged
    # Assigning a team in bulk does not clear the admin off their case either.
    ServiceFactory(team="desk")
    client.post("/inbox/bulk/", {**both, "team": "desk"})
    assert Case.objects.get(mention=theirs).assignee == users["admin"]
    assert any("left with admin" in m for m in messages_of(client.get("/inbox/")))
    # Ticking "take over" is the deliberate choice: then the case changes hands, and it is logged.
    client.post("/inbox/bulk/", {**both, "assignee": users["responder"].pk, "take_over": "1"})
    assert Case.objects.get(mention=theirs).assignee == users["responder"]
    assert not any("left with" in m for m in messages_of(client.get("/inbox/")))


def test_two_people_bulk_assigning_the_same_posts_do_not_take_each_others(client, users) -> None:  # type: ignore[no-untyped-def]
    posts = MentionFactory.create_batch(3)
    data = {"mention": [str(m.pk) for m in posts], "bulk_action": "assign"}
    client.force_login(users["admin"])
    client.post("/inbox/bulk/", {**data, "assignee": users["admin"].pk})
    assert messages_of(client.get("/inbox/")) == ["3 updated."]
    client.force_login(users["responder"])  # ticked the same page a moment later
    client.post("/inbox/bulk/", {**data, "assignee": users["responder"].pk})
    said = messages_of(client.get("/inbox/"))
    assert any(m.startswith("3 cases were left with admin") for m in said), said
    assert not any(m.endswith("updated.") for m in said)
    assert set(Case.objects.values_list("assignee__username", flat=True)) == {"admin"}
    assert CaseActivity.objects.filter(kind="assign").count() == 3


def test_the_state_form_does_not_offer_replied_without_an_answer(client, users) -> None:  # type: ignore[no-untyped-def]
    mention = MentionFactory()
    client.force_login(users["responder"])
    page = client.get(f"/inbox/m/{mention.pk}/").content.decode()
    assert 'value="waiting"' in page and 'value="replied"' not in page
    response = client.post(f"/inbox/m/{mention.pk}/", {"action": "state", "state": "replied"}, follow=True)
    said = messages_of(response)
    assert any("Answered elsewhere" in m for m in said), said
    assert not CaseActivity.objects.exists()
    assert not Case.objects.filter(state="replied").exists()
    # Recording the answer is how a case answered outside servicepulse becomes replied, and it counts.
    client.post(f"/inbox/m/{mention.pk}/", {"action": "recorded", "text": "Phoned them at 10:05"})
    case = Case.objects.get(mention=mention)
    assert case.state == "replied" and case.first_response_at is not None
    page = client.get(f"/inbox/m/{mention.pk}/").content.decode()
    assert '<option value="replied" selected>' in page  # the form shows where the case is
    client.post(f"/inbox/m/{mention.pk}/", {"action": "state", "state": "replied"})  # no change, no error
    client.post(f"/inbox/m/{mention.pk}/", {"action": "state", "state": "closed"})
    assert Case.objects.get(mention=mention).state == "closed"
