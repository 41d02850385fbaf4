"""The report-a-problem widget: embed script, reporter tokens, one counted report per person per service per
hour, CORS allow-list, rate limit per address, and what the stored mention holds."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from servicepulse.mentions.models import Mention
from servicepulse.sources.connectors.widget.parse import parse_report
from servicepulse.sources.services import source_create
from tests.factories import ServiceFactory, SourceFactory

FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/widget/fixtures"
BASE = "/sources/widget/portal"
PORTAL = "https://portal.northgate.ac.uk"


@pytest.fixture
def source(db):  # type: ignore[no-untyped-def]
    ServiceFactory(id="vle", name="Moodle VLE", order=1)
    ServiceFactory(id="wifi", name="Wi-Fi (eduroam)", order=2)
    ServiceFactory(id="backup", name="Staff backup", public=False)
    return source_create(
        kind="widget", name="portal", options={"allowed_origins": PORTAL, "rate_limit_per_hour": 50}
    )


def session(client: Client, token: str = "", **headers: str) -> dict:
    extra = {"HTTP_X_WIDGET_TOKEN": token} if token else {}
    response = client.get(f"{BASE}/session/", **extra, **headers)
    assert response.status_code == 200, response.content
    return response.json()


def report(client: Client, body: dict | bytes, **headers: str):  # type: ignore[no-untyped-def]
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(f"{BASE}/reports/", data=data, content_type="application/json", **headers)


def body(token: str, service: str = "vle", problem: str = "down", comment: str = "Upload times out") -> dict:
    return {"service": service, "problem": problem, "comment": comment, "token": token, "website": ""}


def test_embed_script_is_served_as_static_javascript(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"{BASE}/embed.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    script = response.content.decode()
    assert "aria-live" in script and "<label" not in script and "reports/" in script and "session/" in script
    assert "innerHTML" not in script  # built with DOM calls, so no markup injection
    assert client.get("/sources/widget/nobody/embed.js").status_code == 404
    SourceFactory(name="not-a-widget")
    assert client.get("/sources/widget/not-a-widget/embed.js").status_code == 404


def test_session_offers_public_services_and_problem_types(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    data = session(client)
    assert [s["id"] for s in data["services"]] == ["vle", "wifi"]
    assert [p["id"] for p in data["problem_types"]] == ["down", "slow", "login", "other"]
    assert data["token"] and data["signed_in"] is False
    # The form says what a report keeps, and for how long (the source's retention).
    assert data["notice"] == (
        "A report keeps the service, the problem, what you write and this page's address (not your name), "
        "until the IT team deletes it; not your IP address."
    )
    assert data["privacy_url"] == ""
    # A browser that kept its token gets the same one back; a forged one is replaced.
    assert session(client, data["token"])["token"] == data["token"]
    assert session(client, data["token"] + "x")["token"] != data["token"] + "x"


def test_one_report_per_person_per_service_per_hour(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    token = session(client)["token"]
    first = report(client, body(token))
    again = report(client, body(token, problem="slow", comment="still broken"))
    other_service = report(client, body(token, service="wifi"))
    someone_else = report(client, body(session(client)["token"]))
    assert (first.status_code, first.json()["counted"]) == (201, True)
    assert (again.status_code, again.json()["counted"]) == (200, False)
    assert other_service.json()["counted"] is True and someone_else.json()["counted"] is True
    assert Mention.objects.filter(source=source).count() == 3
    # The rule holds when the cache is cleared (the database remembers) ...
    cache.clear()
    assert report(client, body(token)).json()["counted"] is False
    # ... and an hour later the same person counts again.
    Mention.objects.filter(source=source).update(
        created_at=Mention.objects.first().created_at - timedelta(minutes=61)
    )
    cache.clear()
    assert report(client, body(token)).json()["counted"] is True


def test_report_becomes_a_mention_tagged_to_the_chosen_service(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    token = session(client)["token"]
    report(
        client,
        body(token, comment="  The assignment upload page\n times out.  "),
        HTTP_REFERER=f"{PORTAL}/help?u=s123",
    )
    mention = Mention.objects.get(source=source)
    assert mention.text == "Moodle VLE — not working: The assignment upload page times out."
    assert mention.raw["service_id"] == "vle" and mention.raw["problem"] == "down"
    assert mention.raw["page"] == f"{PORTAL}/help"  # no query string kept
    assert mention.author_id.startswith("w:") and token not in mention.author_id
    assert mention.author == ""


def test_signed_in_user_counts_once_whatever_the_token(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(username="s1234567", password="pw")
    client.force_login(user)
    assert session(client)["signed_in"] is True
    first = report(client, body(session(client)["token"]))
    second = report(client, body(session(client)["token"]))
    anonymous_token = report(client, body(""))
    assert first.json()["counted"] is True
    assert second.json()["counted"] is False and anonymous_token.json()["counted"] is False
    assert Mention.objects.get(source=source).author == "s1234567"


@pytest.mark.parametrize(
    ("payload", "status", "reason"),
    [
        ({"service": "vle", "problem": "down", "token": "forged"}, 403, "expired"),
        ({"service": "nope", "problem": "down"}, 400, "unknown service"),
        ({"service": "backup", "problem": "down"}, 400, "unknown service"),
        ({"service": "vle", "problem": "meh"}, 400, "problem must be one of"),
        ({"service": "vle", "problem": "down", "comment": "x" * 501}, 400, "longer than 500"),
        ({"service": "vle", "problem": "down", "comment": 5}, 400, "comment must be text"),
        ({"problem": "down"}, 400, "choose a service"),
        (b'{"service": "vle", "prob', 400, "not valid JSON"),
        (b"[1]", 400, "JSON object"),
    ],
)
def test_bad_reports_are_refused_with_a_reason(
    source, client: Client, payload, status: int, reason: str
) -> None:  # type: ignore[no-untyped-def]
    if isinstance(payload, dict) and "token" not in payload:
        payload["token"] = session(client)["token"]
    response = report(client, payload)
    assert response.status_code == status and reason in response.json()["error"]
    # Only an expired form carries a code: the widget's script renews its token on that, not on wording.
    assert response.json().get("code") == ("form_expired" if reason == "expired" else None)
    assert Mention.objects.count() == 0


def test_oversized_report_is_413(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    token = session(client)["token"]
    response = report(client, body(token, comment="y" * 9000))
    assert response.status_code == 413


def test_honeypot_is_accepted_but_not_kept(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    payload = json.loads((FIXTURES / "report_honeypot.json").read_text())
    payload["token"] = session(client)["token"]
    response = report(client, payload)
    assert response.status_code == 200 and response.json()["counted"] is False
    assert Mention.objects.count() == 0


def test_cors_allows_configured_origins_only(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    preflight = client.options(
        f"{BASE}/reports/", HTTP_ORIGIN=PORTAL, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == PORTAL
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    assert preflight["Access-Control-Allow-Credentials"] == "true"
    token = session(client, HTTP_ORIGIN=PORTAL)["token"]
    allowed = report(client, body(token), HTTP_ORIGIN=PORTAL)
    assert allowed.status_code == 201 and allowed["Access-Control-Allow-Origin"] == PORTAL
    evil = "https://evil.example"
    assert client.options(f"{BASE}/reports/", HTTP_ORIGIN=evil).status_code == 403
    refused = report(client, body(token, service="wifi"), HTTP_ORIGIN=evil)
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    assert client.get(f"{BASE}/session/", HTTP_ORIGIN=evil).status_code == 403
    assert Mention.objects.count() == 1


def test_rate_limit_per_address(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    source.options["rate_limit_per_hour"] = 3
    source.save()
    token = session(client)["token"]
    assert report(client, body(token)).status_code == 201  # 1
    assert report(client, body(token, service="wifi")).status_code == 201  # 2
    assert report(client, body(token, problem="slow")).status_code == 200  # 3 (the same report: not counted)
    limited = report(client, body(token, problem="login"))
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "too many reports" in limited.json()["error"]
    other_address = report(client, body(token, service="wifi"), REMOTE_ADDR="10.9.8.7")
    assert other_address.status_code == 200  # another address is not limited (and already counted)


def test_loading_the_form_does_not_use_up_the_reports(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    """A campus shares a few addresses: every page view of the portal loads the form, and those loads used
    the reports' budget (60 page views an hour made the form unavailable to everyone there). Loads have their
    own budget, ten times the reports'."""
    from servicepulse.sources.connectors.widget.reports import SESSION_RATE_FACTOR

    source.options["rate_limit_per_hour"] = 2
    source.save()
    for _ in range(2 * SESSION_RATE_FACTOR):
        token = session(client)["token"]
    assert report(client, body(token)).status_code == 201
    assert report(client, body(token, service="wifi")).status_code == 201
    assert report(client, body(token, service="backup")).status_code == 429
    refused = client.get(f"{BASE}/session/", HTTP_ORIGIN=PORTAL)
    assert refused.status_code == 429 and "too many requests" in refused.json()["error"]
    # The host page may read the refusal (it had no CORS headers, so the form could only say "unavailable").
    assert refused["Access-Control-Allow-Origin"] == PORTAL


def test_csrf_is_not_required(source) -> None:  # type: ignore[no-untyped-def]
    strict = Client(enforce_csrf_checks=True)
    token = session(strict)["token"]
    assert report(strict, body(token)).status_code == 201


# -- property test -------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
reports = st.fixed_dictionaries(
    {},
    optional={
        "service": st.sampled_from(["vle", "wifi", "nope"]) | json_values,
        "problem": st.sampled_from(["down", "slow", "login", "other", "x"]) | json_values,
        "comment": st.text(max_size=600) | json_values,
        "token": json_values,
        "website": json_values,
    },
)


@given(payload=reports | json_values)
@hsettings(max_examples=300, deadline=None)
def test_parse_report_only_raises_parse_errors(payload: object) -> None:
    try:
        result = parse_report(payload, services={"vle": "Moodle VLE", "wifi": "Wi-Fi"})
    except ValueError:
        return
    assert result.service_id in {"vle", "wifi"} and len(result.comment) <= 500 and result.text


def test_options_typed_on_the_command_line_are_read(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    source.options.update({"public_services_only": "false", "rate_limit_per_hour": "1"})
    source.save()
    services = session(client)["services"]
    assert [s["id"] for s in services] == ["backup", "vle", "wifi"]
    token = session(client)["token"]
    assert report(client, body(token, service="backup")).status_code == 201
    assert report(client, body(token, service="wifi")).status_code == 429


def test_control_characters_are_dropped_from_the_comment(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    token = session(client)["token"]
    assert report(client, body(token, comment="nul\x00 and\x07 bell")).status_code == 201
    assert Mention.objects.get(source=source).text.endswith(": nul and bell")


# -- the form's language: English, Welsh, or both ---------------------------------------------------------

LANGUAGES = {
    "en": {
        "lang": "en",
        "title": "Report a problem",
        "labels": ["Not working", "Slow", "Can't sign in", "Something else"],
        "service_label": "Which service?",
        "send": "Send report",
        "comment_hint": "Up to 500 characters.",
        "notice": "A report keeps the service, the problem, what you write and this page's address (not your "
        "name), for 30 days; not your IP address.",
        "thanks": "Thanks, your report was received.",
        "again": "Thanks, we already have your report about this service.",
        "unknown": "unknown service 'gone'",
        "limited": "too many reports from this address; try again later",
        "unavailable": "The problem report form is unavailable right now.",
    },
    "cy": {
        "lang": "cy",
        "title": "Rhoi gwybod am broblem",
        "labels": ["Ddim yn gweithio", "Araf", "Methu mewngofnodi", "Rhywbeth arall"],
        "service_label": "Pa wasanaeth?",
        "send": "Anfon adroddiad",
        "comment_hint": "Hyd at 500 nod.",
        "notice": "Mae adroddiad yn cadw'r gwasanaeth, y broblem, yr hyn rydych yn ei ysgrifennu a chyfeiriad y "
        "dudalen hon (nid eich enw), am 30 diwrnod; nid eich cyfeiriad IP.",
        "thanks": "Diolch — rydym wedi cael eich adroddiad.",
        "again": "Diolch — mae eich adroddiad am y gwasanaeth hwn gennym eisoes.",
        "unknown": "gwasanaeth anhysbys 'gone'",
        "limited": "gormod o adroddiadau o'r cyfeiriad hwn; rhowch gynnig arall arni yn nes ymlaen",
        "unavailable": "Nid yw'r ffurflen rhoi gwybod am broblem ar gael ar hyn o bryd.",
    },
    "both": {
        "lang": "cy",
        "title": "Rhoi gwybod am broblem / Report a problem",
        "labels": [
            "Ddim yn gweithio / Not working",
            "Araf / Slow",
            "Methu mewngofnodi / Can't sign in",
            "Rhywbeth arall / Something else",
        ],
        "service_label": "Pa wasanaeth? / Which service?",
        "send": "Anfon adroddiad / Send report",
        "comment_hint": "Hyd at 500 nod. / Up to 500 characters.",
        "notice": "Mae adroddiad yn cadw'r gwasanaeth, y broblem, yr hyn rydych yn ei ysgrifennu a chyfeiriad y "
        "dudalen hon (nid eich enw), am 30 diwrnod; nid eich cyfeiriad IP. / A report keeps the service, the "
        "problem, what you write and this page's address (not your name), for 30 days; not your IP address.",
        "thanks": "Diolch — rydym wedi cael eich adroddiad. / Thanks, your report was received.",
        "again": "Diolch — mae eich adroddiad am y gwasanaeth hwn gennym eisoes. / Thanks, we already have your "
        "report about this service.",
        # Each half a sentence: the script capitalises only the start of the whole and ends only its end.
        "unknown": "Gwasanaeth anhysbys 'gone'. / Unknown service 'gone'.",
        "limited": "Gormod o adroddiadau o'r cyfeiriad hwn; rhowch gynnig arall arni yn nes ymlaen. / Too many "
        "reports from this address; try again later.",
        "unavailable": "Nid yw'r ffurflen rhoi gwybod am broblem ar gael ar hyn o bryd. / The problem report "
        "form is unavailable right now.",
    },
}


@pytest.mark.parametrize("language", ["en", "cy", "both"])
def test_everything_the_form_says_is_in_its_language_and_the_report_is_stored_the_same(
    source, client: Client, language: str
) -> None:  # type: ignore[no-untyped-def]
    said = LANGUAGES[language]
    source.options.update({"language": language, "rate_limit_per_hour": 3})
    if language == "cy":
        source.options["title"] = "Report a problem"  # the English default sources stored before `language`
    source.retention_days = 30
    source.save()
    data = session(client)
    assert data["lang"] == said["lang"] and data["title"] == said["title"]
    assert [p["label"] for p in data["problem_types"]] == said["labels"]
    assert [p["id"] for p in data["problem_types"]] == ["down", "slow", "login", "other"]
    assert data["words"]["service_label"] == said["service_label"]
    assert data["words"]["send"] == said["send"] and data["words"]["comment_hint"] == said["comment_hint"]
    assert data["notice"] == said["notice"]
    token = data["token"]
    first = report(client, body(token, comment="Mae Moodle i lawr"))
    assert (first.status_code, first.json()["message"]) == (201, said["thanks"])
    assert report(client, body(token, problem="slow")).json()["message"] == said["again"]
    refused = report(client, body(token, service="gone"))
    assert (refused.status_code, refused.json()["error"]) == (400, said["unknown"])
    report(client, body(token, service="wifi"))
    limited = report(client, body(token, service="wifi", problem="login"))
    assert (limited.status_code, limited.json()["error"]) == (429, said["limited"])
    # The script says "unavailable" in the language too, when it cannot reach the session at all.
    unavailable = unavailable_literal(client)
    assert unavailable["lang"] == said["lang"] and joined(unavailable["parts"]) == said["unavailable"]
    # What is stored is the same in every language: the codes, the English label, the person's own words.
    mention = Mention.objects.filter(source=source).order_by("pk").first()
    assert mention is not None
    assert (mention.raw["service_id"], mention.raw["problem"], mention.raw["problem_label"]) == (
        "vle",
        "down",
        "Not working",
    )
    assert mention.text == "Moodle VLE — not working: Mae Moodle i lawr"


def test_the_form_keeps_a_title_the_admin_wrote_and_refuses_an_unknown_language(
    source, client: Client
) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.sources.services import SourceConfigError

    source.options.update({"language": "cy", "title": "Problem gyda gwasanaeth TG?"})
    source.save()
    assert session(client)["title"] == "Problem gyda gwasanaeth TG?"
    with pytest.raises(SourceConfigError, match="must be one of en, cy, both"):
        source_create(kind="widget", name="french", options={"language": "fr"})
    assert session(client)["lang"] == "cy"
    assert source_create(kind="widget", name="plain").options["language"] == "en"


def unavailable_literal(client: Client) -> dict:
    """The sentence the embed script carries for when it cannot reach the session, as the server wrote it."""
    script = client.get(f"{BASE}/embed.js").content.decode()
    [literal] = re.findall(r"^  var UNAVAILABLE = (\{.*\});$", script, flags=re.MULTILINE)
    return json.loads(literal)


def joined(parts: list[dict]) -> str:
    return "".join(part["text"] for part in parts)


def session_texts(data: dict) -> dict[str, tuple[str, list[dict]]]:
    """Every text a session gives the form: its joined string (what an older embed script shows) and parts."""
    texts = {"title": (data["title"], data["title_parts"]), "notice": (data["notice"], data["notice_parts"])}
    texts |= {key: (text, data["word_parts"][key]) for key, text in data["words"].items()}
    texts |= {p["id"]: (p["label"], p["label_parts"]) for p in data["problem_types"]}
    return texts


def expired_token() -> str:
    from django.core import signing

    return signing.dumps({"r": "x"}, salt="not-this-source")  # a token this source never signed


BILINGUAL = {
    "title": ("Rhoi gwybod am broblem", "Report a problem"),
    "down": ("Ddim yn gweithio", "Not working"),
    "send": ("Anfon adroddiad", "Send report"),
    "sending": ("Wrthi'n anfon…", "Sending…"),
    "need_service": ("Dewiswch wasanaeth, os gwelwch yn dda.", "Please choose a service."),
    "comment_hint": ("Hyd at 500 nod.", "Up to 500 characters."),
    "privacy_link": ("Hysbysiad preifatrwydd", "Privacy notice"),
}


def test_each_half_of_a_bilingual_text_is_marked_with_its_own_language(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    # A bilingual form is lang="cy": its English halves come marked lang="en", so the script can put them in an
    # element of their own and a screen reader reads them with an English voice (WCAG 2.2, 3.1.2).
    source.options.update({"language": "both", "rate_limit_per_hour": 3})
    source.retention_days = 30
    source.save()
    data = session(client, HTTP_ORIGIN=PORTAL)
    assert data["lang"] == "cy"
    texts = session_texts(data)
    assert len(texts) == 1 + 1 + 12 + 4  # title, notice, the form's words, the problem types
    for key, (text, parts) in texts.items():
        # Welsh, the separator (in the form's language), English; joined, the string older scripts show.
        assert [part["lang"] for part in parts] == ["cy", "cy", "en"], key
        assert parts[1]["text"] == " / " and joined(parts) == text, key
    for key, (welsh, english) in BILINGUAL.items():
        parts = texts[key][1]
        assert (parts[0]["text"], parts[2]["text"]) == (welsh, english), key
    assert texts["notice"][1][2]["text"].startswith("A report keeps the service")
    # The script's own sentence, said when the session cannot be had.
    unavailable = unavailable_literal(client)
    assert unavailable["lang"] == "cy"
    assert [(p["lang"], p["text"]) for p in unavailable["parts"]] == [
        ("cy", "Nid yw'r ffurflen rhoi gwybod am broblem ar gael ar hyn o bryd."),
        ("cy", " / "),
        ("en", "The problem report form is unavailable right now."),
    ]

    def halves(answer: dict, field: str) -> list[tuple[str, str]]:
        return [(p["lang"], p["text"]) for p in answer[f"{field}_parts"] if p["text"] != " / "]

    thanks = report(client, body(data["token"]), HTTP_ORIGIN=PORTAL).json()
    assert halves(thanks, "message") == [
        ("cy", "Diolch — rydym wedi cael eich adroddiad."),
        ("en", "Thanks, your report was received."),
    ]
    assert joined(thanks["message_parts"]) == thanks["message"]
    # Refusals: a validation error, an expired form, the rate limit, an origin not allowed; each half a sentence.
    invalid = report(client, body(data["token"], service="gone"), HTTP_ORIGIN=PORTAL).json()
    assert halves(invalid, "error") == [
        ("cy", "Gwasanaeth anhysbys 'gone'."),
        ("en", "Unknown service 'gone'."),
    ]
    expired = report(client, body(expired_token(), service="wifi"), HTTP_ORIGIN=PORTAL).json()
    assert expired["code"] == "form_expired"
    assert halves(expired, "error")[1] == ("en", "This form has expired; reload the page and try again.")
    limited = report(client, body(data["token"], problem="slow"), HTTP_ORIGIN=PORTAL)
    assert limited.status_code == 429
    assert halves(limited.json(), "error")[1] == (
        "en",
        "Too many reports from this address; try again later.",
    )
    origin = client.get(f"{BASE}/session/", HTTP_ORIGIN="https://evil.example").json()
    assert halves(origin, "error") == [
        ("cy", "Ni chaiff https://evil.example ddefnyddio'r ffurflen hon."),
        ("en", "Origin https://evil.example is not allowed to use this widget."),
    ]
    for answer in (invalid, expired, limited.json(), origin):
        assert joined(answer["error_parts"]) == answer["error"]  # as before, for an older script


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_one_language_form_says_each_text_in_one_part_in_its_language(
    source, client: Client, language: str
) -> None:  # type: ignore[no-untyped-def]
    source.options.update({"language": language, "rate_limit_per_hour": 1, "title": "Problem gyda TG?"})
    source.save()
    data = session(client)
    assert data["lang"] == language and data["title_parts"] == [
        {"lang": language, "text": "Problem gyda TG?"}
    ]
    for key, (text, parts) in session_texts(data).items():
        assert parts == [{"lang": language, "text": text}], key
    assert unavailable_literal(client)["parts"] == [
        {"lang": language, "text": LANGUAGES[language]["unavailable"]}
    ]
    thanks = report(client, body(data["token"])).json()
    assert thanks["message_parts"] == [{"lang": language, "text": LANGUAGES[language]["thanks"]}]
    # The refusal stays the phrase older scripts make a sentence; its part is that sentence.
    limited = report(client, body(data["token"], service="wifi")).json()
    assert limited["error"] == LANGUAGES[language]["limited"]
    phrase = limited["error"]
    assert limited["error_parts"] == [{"lang": language, "text": phrase[0].upper() + phrase[1:] + "."}]


def test_a_refusal_worded_only_in_english_is_marked_english(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    # A body that is not JSON is refused in English before the form's language is looked at (the embed script
    # never sends one): in a Welsh form that sentence is marked as English rather than read as Welsh.
    source.options["language"] = "cy"
    source.save()
    refused = report(client, b"{not json").json()
    assert refused["error"].startswith("body is not valid JSON")
    assert [part["lang"] for part in refused["error_parts"]] == ["en"]
    assert refused["error_parts"][0]["text"].startswith("Body is not valid JSON")


# -- in a real browser: the script embedded in another site's page ------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium not installed at /usr/bin/chromium (make browser-deps)"
)
@pytest.mark.django_db(transaction=True)
def test_embedded_form_reports_from_another_origin(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    from tests.replay import ReplayServer, Reply

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop lives in this thread
    ServiceFactory(id="vle", name="Moodle VLE", order=1)
    ServiceFactory(id="wifi", name="Wi-Fi (eduroam)", order=2)
    with ReplayServer() as host:
        source_create(kind="widget", name="portal", options={"allowed_origins": host.url})
        page_html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Student portal</title></head>'
            '<body><main><h1>Student portal</h1><div id="servicepulse-report"></div>'
            f'<script src="{live_server.url}/sources/widget/portal/embed.js"></script></main></body></html>'
        )
        host.add("GET", "/", Reply(200, {"Content-Type": "text/html; charset=utf-8"}, page_html))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"]
            )
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.goto(host.url + "/")
            page.get_by_label("Which service?").select_option(label="Moodle VLE")
            page.get_by_label("Not working").check()
            page.get_by_label("Anything else we should know? (optional)").fill("Upload page times out")
            page.get_by_role("button", name="Send report").click()
            status = page.get_by_role("status")
            status.filter(has_text="Thanks").wait_for()
            assert status.inner_text() == "Thanks, your report was received."
            violations = Axe().run(page).response["violations"]
            # The reporter token survives a reload (localStorage): a second report is not counted.
            page.reload()
            page.get_by_label("Which service?").select_option(label="Moodle VLE")
            page.get_by_label("Slow").check()
            page.get_by_role("button", name="Send report").click()
            page.get_by_role("status").filter(has_text="already").wait_for()
            browser.close()
    mention = Mention.objects.get()
    assert mention.raw["service_id"] == "vle" and mention.text.endswith("not working: Upload page times out")
    assert mention.raw["page"] == host.url + "/"
    assert not violations, [(v["id"], v["help"]) for v in violations]


# -- on Redis, as in production: the counting gate and the rate limit hold across processes ------------------


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.redis
@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_counting_and_rate_limit_on_redis(source, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    import uuid

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/11",  # none of the RQ tests' (12-15)
            # A fresh prefix: nothing else is touched, and these keys expire within the hour.
            "KEY_PREFIX": f"sp-test-{uuid.uuid4().hex}",
        }
    }
    source.options["rate_limit_per_hour"] = 3
    source.save()
    token = session(client)["token"]
    assert report(client, body(token)).json()["counted"] is True
    # A second web worker sees the same gate: with the database row gone, Redis alone refuses.
    Mention.objects.all().delete()
    assert report(client, body(token)).json()["counted"] is False
    assert report(client, body(token, service="wifi")).status_code == 201
    assert report(client, body(token, service="wifi")).status_code == 429


def test_comment_keeps_joiners_marks_and_new_emoji(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    # Persian needs the zero-width non-joiner, emoji sequences the zero-width joiner, right-to-left text its
    # marks; 🫨 (Unicode 15) is newer than Python 3.11's tables. Only control characters and lone surrogates go.
    persian = "نمی\u200cتوانم وارد شوم"  # noqa: RUF001 - Persian on purpose ("I cannot sign in")
    comment = f"{persian} \u200f👩\u200d💻 🫨 bell\x07 \ud800end"
    token = session(client)["token"]
    assert report(client, body(token, comment=comment)).status_code == 201
    assert Mention.objects.get(source=source).raw["comment"] == f"{persian} \u200f👩\u200d💻 🫨 bell end"


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://www.example.ac.uk/privacy", "https://www.example.ac.uk/privacy"),
        ("javascript:alert(1)", ""),
        ("//evil.example/x", ""),
    ],
)
def test_the_privacy_notice_is_linked_only_at_a_web_address(
    source, client: Client, url: str, linked: str
) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.sources.services import source_update

    source_update(source=source, options={**source.options, "privacy_url": url})
    source.retention_days = 90
    source.save(update_fields=["retention_days"])
    data = session(client)
    assert data["privacy_url"] == linked
    assert data["notice"].endswith("for 90 days; not your IP address.")
