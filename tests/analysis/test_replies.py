"""Agreement replies ("same here") are recognised without reading more into longer replies."""

from __future__ import annotations

import pytest

from servicepulse.analysis.ml.normalise import normalise
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
