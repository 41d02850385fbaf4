"""Complaint themes: the terms that stand out against the usual complaints, one theme per group of posts."""

from __future__ import annotations

from datetime import UTC, datetime

from servicepulse.experience.themes import ThemePost, themes_for, tokens

AT = datetime(2026, 11, 22, 21, 40, tzinfo=UTC)


def post(i: int, text: str, author: str | None = None) -> ThemePost:
    return ThemePost(mention_id=i, text=text, author=author or f"a{i}", source="Facebook", created_at=AT)


def test_what_stands_out_against_the_usual_complaints() -> None:
    posts = [post(i, f"moodle gives me a 503 error, deadline at midnight {i}") for i in range(12)]
    posts += [post(100 + i, "moodle is slow to open pdfs") for i in range(3)]
    background = ["moodle is slow to open pdfs"] * 40 + ["moodle quiz logged me out"] * 30
    themes = themes_for(posts, background=background, ignore=frozenset({"moodle"}), limit=3)
    assert themes
    top = themes[0]
    assert any(word in top.label for word in ("503", "error", "deadline", "midnight"))
    assert top.count == 12
    # The other words of the same posts do not make more themes of their own.
    assert all(t.count < 12 or t is top for t in themes)
    assert "moodle" not in top.label


def test_examples_come_from_different_people_in_different_words() -> None:
    posts = [post(i, "wifi in the hopkins building keeps dropping", author="same person") for i in range(5)]
    posts += [post(10, "hopkins building wifi is unusable right now", author="b")]
    posts += [post(11, "no internet anywhere in hopkins building today", author="c")]
    themes = themes_for(posts, background=["printer jammed"] * 20, limit=1, examples=3)
    assert themes[0].label.startswith("hopkins")
    authors = [p.author for p in themes[0].examples]
    assert len(authors) == len(set(authors))
    assert themes[0].example == themes[0].examples[0].text


def test_nothing_to_say_about_nothing() -> None:
    assert themes_for([], background=["x"]) == []
    assert themes_for([post(1, "same")], background=[]) == []


def test_tokens_drop_links_handles_and_filler() -> None:
    assert tokens("@itdesk is the VLE down?? https://t.co/x #moodle rn") == ["vle", "down", "moodle"]


def test_themes_of_complaints_in_welsh_french_and_arabic_keep_whole_words() -> None:
    """The words were read as ASCII runs: "ffôn" became "ff" and "n", and a complaint in Arabic had no word
    at all, so it never made a theme nor gave the report a quote."""
    assert tokens("Le réseau ne marche pas, ffôn ddim yn gweithio") == [
        "réseau",
        "marche",
        "pas",
        "ffôn",
        "ddim",
        "gweithio",
    ]
    assert tokens("moodle doesn’t load") == ["moodle", "load"]  # the stop word, not "doesn", however typed  # noqa: RUF001 - other scripts on purpose
    posts = [post(i, f"الواي فاي لا يعمل في السكن منذ الصباح {i}") for i in range(6)]
    themes = themes_for(posts, background=["printer jammed"] * 20, limit=1)
    assert themes and themes[0].count == 6
    assert set(themes[0].label.split()) <= {"الواي", "فاي", "يعمل", "السكن", "منذ", "الصباح"}
