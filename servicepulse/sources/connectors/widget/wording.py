"""Every word the widget shows a person, in English and in Welsh: one table per language.

A widget source's `language` option picks English (`en`, the default), Welsh (`cy`) or both (`both`: each
text Welsh first, then English, as Welsh public bodies write bilingual forms). Only what people read is
worded here; what a report stores (the problem's code, the service's id) is the same in every language, so
detection, the explorer and the inbox read a Welsh form's reports as they read an English one's.

Refusals (`reason`) are phrases, as the endpoints have always sent them: the embed script makes one a
sentence (a capital, a full stop). Both halves of a bilingual refusal are made sentences here, since the
script only sees the start of the first and the end of the second.

Each text is also said in parts (`say_parts`, `reason_parts`, `notice_parts`), each part marked with its
language, so the script can mark the English half of a bilingual form `lang="en"` inside the Welsh form and
a screen reader reads each half with its own voice (WCAG 2.2, 3.1.2 Language of Parts). The parts of a text
joined are the text (the separator is a part in the form's language); a refusal's parts are sentences.
The joined strings stay in the endpoints' answers for a page that still runs an older embed script.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypedDict


class FormLanguage(StrEnum):
    ENGLISH = "en"
    WELSH = "cy"
    BOTH = "both"  # Welsh first, then English

    @property
    def label(self) -> str:
        """The language's name for the admin's pages."""
        return {"en": "English", "cy": "Welsh (Cymraeg)", "both": "Welsh and English, Welsh first"}[
            self.value
        ]


WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Report a problem",
        "service_label": "Which service?",
        "service_choose": "Choose a service",
        "problem_legend": "What is wrong?",
        "problem_down": "Not working",
        "problem_slow": "Slow",
        "problem_login": "Can't sign in",
        "problem_other": "Something else",
        "comment_label": "Anything else we should know? (optional)",
        "comment_hint": "Up to {limit} characters.",
        "send": "Send report",
        "sending": "Sending…",
        "need_service": "Please choose a service.",
        "need_problem": "Please say what is wrong.",
        "failed": "Sorry, that did not work.",
        "not_sent": "Sorry, the report could not be sent. Please try again later.",
        "privacy_link": "Privacy notice",
        "unavailable": "The problem report form is unavailable right now.",
        "thanks": "Thanks, your report was received.",
        "thanks_again": "Thanks, we already have your report about this service.",
        "notice": "A report keeps the service, the problem, what you write and {who}, {kept}; not your IP address.",
        "notice_who_signed_in": "this page's address and your username",
        "notice_who": "this page's address (not your name)",
        "notice_kept_days": "for {days} days",
        "notice_kept": "until the IT team deletes it",
        # Refusals: phrases (see the module's docstring).
        "expired": "this form has expired; reload the page and try again",
        "too_many_reports": "too many reports from this address; try again later",
        "too_many_requests": "too many requests from this address; try again later",
        "origin": "origin {origin} is not allowed to use this widget",
        "not_object": "the report must be a JSON object",
        "no_service": "choose a service",
        "unknown_service": "unknown service {service}",
        "bad_problem": "problem must be one of {choices}",
        "bad_comment": "comment must be text",
        "long_comment": "comment is longer than {limit} characters",
    },
    "cy": {
        "title": "Rhoi gwybod am broblem",
        "service_label": "Pa wasanaeth?",
        "service_choose": "Dewiswch wasanaeth",
        "problem_legend": "Beth sydd o'i le?",
        "problem_down": "Ddim yn gweithio",
        "problem_slow": "Araf",
        "problem_login": "Methu mewngofnodi",
        "problem_other": "Rhywbeth arall",
        "comment_label": "Unrhyw beth arall y dylem ei wybod? (dewisol)",
        "comment_hint": "Hyd at {limit} nod.",
        "send": "Anfon adroddiad",
        "sending": "Wrthi'n anfon…",
        "need_service": "Dewiswch wasanaeth, os gwelwch yn dda.",
        "need_problem": "Dywedwch beth sydd o'i le, os gwelwch yn dda.",
        "failed": "Mae'n ddrwg gennym, ni weithiodd hynny.",
        "not_sent": "Mae'n ddrwg gennym, nid oedd modd anfon yr adroddiad. Rhowch gynnig arall arni yn nes ymlaen.",
        "privacy_link": "Hysbysiad preifatrwydd",
        "unavailable": "Nid yw'r ffurflen rhoi gwybod am broblem ar gael ar hyn o bryd.",
        "thanks": "Diolch — rydym wedi cael eich adroddiad.",
        "thanks_again": "Diolch — mae eich adroddiad am y gwasanaeth hwn gennym eisoes.",
        "notice": (
            "Mae adroddiad yn cadw'r gwasanaeth, y broblem, yr hyn rydych yn ei ysgrifennu a {who}, {kept}; "
            "nid eich cyfeiriad IP."
        ),
        "notice_who_signed_in": "chyfeiriad y dudalen hon a'ch enw defnyddiwr",
        "notice_who": "chyfeiriad y dudalen hon (nid eich enw)",
        "notice_kept_days": "am {days} diwrnod",
        "notice_kept": "nes i'r tîm TG ei ddileu",
        "expired": "mae'r ffurflen hon wedi dod i ben; ail-lwythwch y dudalen a rhowch gynnig arall arni",
        "too_many_reports": "gormod o adroddiadau o'r cyfeiriad hwn; rhowch gynnig arall arni yn nes ymlaen",
        "too_many_requests": "gormod o geisiadau o'r cyfeiriad hwn; rhowch gynnig arall arni yn nes ymlaen",
        "origin": "ni chaiff {origin} ddefnyddio'r ffurflen hon",
        "not_object": "rhaid i'r adroddiad fod yn wrthrych JSON",
        "no_service": "dewiswch wasanaeth",
        "unknown_service": "gwasanaeth anhysbys {service}",
        "bad_problem": "rhaid i'r broblem fod yn un o {choices}",
        "bad_comment": "rhaid i'r sylw fod yn destun",
        "long_comment": "mae'r sylw yn hirach na {limit} nod",
    },
}

# What the embed script labels its form with, sent with the form's services (`session_payload`).
FORM_KEYS = (
    "service_label",
    "service_choose",
    "problem_legend",
    "comment_label",
    "comment_hint",
    "send",
    "sending",
    "need_service",
    "need_problem",
    "failed",
    "not_sent",
    "privacy_link",
)


# Between the halves of a bilingual text.
SEPARATOR = " / "


class Part(TypedDict):
    """One run of a text in one language: `lang` is its `lang` attribute (en or cy)."""

    lang: str
    text: str


def form_language(value: Any) -> FormLanguage:
    """The language a source's option names; English when unset or not one of ours."""
    try:
        return FormLanguage(str(value or FormLanguage.ENGLISH).strip().lower())
    except ValueError:
        return FormLanguage.ENGLISH


def html_lang(language: FormLanguage) -> str:
    """The form's `lang` attribute: a bilingual form starts in Welsh."""
    return "en" if language is FormLanguage.ENGLISH else "cy"


def _halves(language: FormLanguage) -> tuple[str, ...]:
    return {FormLanguage.ENGLISH: ("en",), FormLanguage.WELSH: ("cy",)}.get(language, ("cy", "en"))


def _parts(language: FormLanguage, halves: list[str]) -> list[Part]:
    """The halves (one per language of `_halves`) as parts, the separator between them."""
    parts: list[Part] = []
    for half, text in zip(_halves(language), halves, strict=True):
        if parts:
            parts.append({"lang": html_lang(language), "text": SEPARATOR})
        parts.append({"lang": half, "text": text})
    return parts


def joined(parts: list[Part]) -> str:
    """The text the parts make, as one string."""
    return "".join(part["text"] for part in parts)


def say_parts(language: FormLanguage, key: str, **params: Any) -> list[Part]:
    """The text `key` in the form's language, each half marked with its own."""
    return _parts(language, [WORDS[half][key].format(**params) for half in _halves(language)])


def say(language: FormLanguage, key: str, **params: Any) -> str:
    """The text `key` in the form's language (both: "Welsh / English")."""
    return joined(say_parts(language, key, **params))


def reason_parts(language: FormLanguage, key: str, **params: Any) -> list[Part]:
    """A refusal in parts, each half a sentence (shown as it is: the script adds nothing)."""
    return _parts(language, [_sentence(WORDS[half][key].format(**params)) for half in _halves(language)])


def reason(language: FormLanguage, key: str, **params: Any) -> str:
    """A refusal: a phrase in one language, two sentences in both."""
    if language is not FormLanguage.BOTH:
        return say(language, key, **params)
    return joined(reason_parts(language, key, **params))


def notice_parts(language: FormLanguage, *, signed_in: bool, retention_days: int | None) -> list[Part]:
    """What a report keeps and for how long, said under the form, each half marked with its language."""
    halves = []
    for half in _halves(language):
        words = WORDS[half]
        who = words["notice_who_signed_in" if signed_in else "notice_who"]
        kept = (
            words["notice_kept_days"].format(days=retention_days) if retention_days else words["notice_kept"]
        )
        halves.append(words["notice"].format(who=who, kept=kept))
    return _parts(language, halves)


def written_parts(language: FormLanguage, text: str) -> list[Part]:
    """Text an admin wrote (a source's own title): one part, taken to be in the form's language."""
    return [{"lang": html_lang(language), "text": text}]


def sentence_parts(text: str) -> list[Part]:
    """A refusal worded elsewhere, in English only (a body too large or not JSON, which the embed script never
    sends), made a sentence and marked English: in a Welsh form it is read with an English voice."""
    return [{"lang": "en", "text": _sentence(text.strip())}] if text.strip() else []


def _sentence(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:] + ("" if phrase.endswith((".", "!", "?")) else ".")


def default_title(title: str) -> bool:
    """Whether a source's `title` is the default heading: unset, or the English default that sources made
    before the `language` option stored (so a Welsh form never keeps an English heading by accident)."""
    return not title.strip() or title.strip() == WORDS["en"]["title"]
