"""One list of words that say nothing, for every word count that names a group of posts: incident
explanations, complaint themes, "You said, we did" and the digest's topics each kept their own, so "uni" or
"gonna" named a theme, and the digest's topics (scikit-learn's list) never said "system" or "computer"."""

from __future__ import annotations

from servicepulse.core.words import content_words
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
