"""Agreement replies ("same here") are recognised without reading more into longer replies."""

from __future__ import annotations

import pytest

from servicepulse.analysis.ml.normalise import normalise
from servicepulse.analysis.ml.outage_questions import asks_if_down
from servicepulse.analysis.ml.replies import is_me_too


@pytest.mark.parametrize(
    "text",
    [
        "same here",
        "Same!!",
        "+1",
        "+1, same for me",
        "me too, since this morning",
        "omg same 😭",
        "yep, same issue",
        "it's not just you",
        "It\u2019s not just you",  # a curly apostrophe
        "mine\u2019s the same",
        "and I thought it was just me",
        "having the same problem on the app",
        "can confirm, down for me",
        "@NorthgateIT same here #moodle",
    ],
)
def test_agreement_is_recognised(text: str) -> None:
    assert is_me_too(normalise(text))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "samehere",
        "sameer fixed my laptop",
        "this is the same problem as yesterday",
        "thanks, fixed now",
        "I have the same laptop and it works fine",
        "same here, but only since the update, and only on the app, and only when I use the library wifi",
        "#same",
        "@user",
    ],
)
def test_other_replies_are_not_agreement(text: str) -> None:
    assert not is_me_too(normalise(text))


@pytest.mark.parametrize(
    "text",
    [
        "is eduroam down?",
        "Is moodle down or is it just me",
        "@NorthgateIT is the vpn down for anyone else?",
        "hey, is there a known wi-fi problem in Hopkins Building?",
        "is there an outage with email right now?",
        "anyone else having trouble logging into moodle?",
        "Is it just me or is the wifi really slow today",
        "does the printer in the library work for anyone?",
        "are the lab PCs not working again?",
    ],
)
def test_asking_whether_a_service_is_down_is_recognised(text: str) -> None:
    assert asks_if_down(normalise(text))


@pytest.mark.parametrize(
    "text",
    [
        "how do I connect to eduroam on linux?",
        "does anyone know when the library opens?",
        "is it just me or is the new app faster?",  # "is it just me" without a fault
        "is anyone else going to the careers fair?",
        "is this down to the new update?",  # "down to": caused by
        "is the downstairs printer free?",
        "thanks, is moodle back up now? it was down earlier",  # opens with thanks, asks if it is back
        "",
    ],
)
def test_other_questions_are_not_outage_reports(text: str) -> None:
    assert not asks_if_down(normalise(text))
