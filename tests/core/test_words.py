"""What every word count reads of a post. `NOT_WORDS` (links, addresses, handles) is taken out in linear
time. One list of words that say nothing, for every word count that names a group of posts: incident
explanations, complaint themes, "You said, we did" and the digest's topics each kept their own, so "uni" or
"gonna" named a theme, and the digest's topics (scikit-learn's list) never said "system" or "computer"."""

from __future__ import annotations

import time

import pytest

from servicepulse.core.words import NOT_WORDS, content_words
from servicepulse.experience.themes import terms_of
from servicepulse.incidents.explain import rising_terms
from servicepulse.publish.topics import telling_terms


def test_content_words_leave_out_fillers_numbers_and_possessives() -> None:
    text = "Uni wifi's gonna drop again, 2nd time today, help!! https://t.co/x @itdesk"
    assert content_words(text) == ["wifi", "drop"]
    assert content_words("the VLE is down", ignore={"vle"}) == ["down"]


def test_every_word_count_keeps_the_words_that_say_what_is_wrong() -> None:
    posts = [
        "uni booking system gonna crash again lol",
        "booking system crashed, computer room empty",
        "the booking system keeps crashing on the computer",
    ]
    calm = ["where is the library", "printing in colour", "how do I reset a password"] * 4
    themes = set().union(*(terms_of(p) for p in posts))
    topics = telling_terms(posts, posts + calm)
    rising = {t["term"] for t in rising_terms(posts, calm)}
    for found in (themes, set(" ".join(topics).split()), rising):
        assert {"booking", "system"} <= found, found
        assert not {"uni", "gonna", "lol", "the", "again"} & found, found
    assert "booking system" in topics  # a pair of words as strong as its words is preferred


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("mail me@uni.ac.uk now", "mail | now"),
        ("(me@uni.ac.uk)", "|"),
        ("x@y@z.w", "|"),
        ("ask @it_desk and \uff20someone", "ask | and |"),
        ("see https://x.example/a and www.example.org", "see | and |"),
        ("me@localhost here", "me| here"),  # no dot: not an address, but "@localhost" is a handle
        ("a@b. and a@.c", "a| and a@.c"),
    ],
)
def test_addresses_links_and_handles_are_taken_out(text: str, kept: str) -> None:
    assert NOT_WORDS.sub("|", text) == kept


@pytest.mark.parametrize("text", ["a@" * 1000, "x.@" * 700, "a" * 30_000])
def test_a_crafted_post_is_read_in_linear_time(text: str) -> None:
    # "a@a@a@..." of 2,000 characters took about seven seconds (`\S+@\S+\.\S+` backtracked over every split),
    # and a minute at twice the length: a post anyone can write on a forum a source reads.
    started = time.perf_counter()
    NOT_WORDS.sub(" ", text)
    assert time.perf_counter() - started < 0.5
