"""Complaint themes: the terms that stand out against the usual complaints, one theme per group of posts."""

from __future__ import annotations

from datetime import UTC, datetime

from servicepulse.core.words import content_words
from servicepulse.experience.themes import ThemePost, themes_for

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


def test_content_words_drop_links_handles_and_filler() -> None:
    assert content_words("@itdesk is the VLE down?? https://t.co/x #moodle rn") == ["vle", "down", "moodle"]


def test_themes_of_complaints_in_welsh_french_and_arabic_keep_whole_words() -> None:
    """The words were read as ASCII runs: "ffôn" became "ff" and "n", and a complaint in Arabic had no word
    at all, so it never made a theme nor gave the report a quote."""
    assert content_words("Le réseau ne marche pas, ffôn ddim yn gweithio") == [
        "réseau",
        "marche",
        "pas",
        "ffôn",
        "gweithio",  # "ddim" (not) is a stop word, as "not" is
    ]
    typed = "moodle doesn’t load"  # noqa: RUF001 - a curly apostrophe on purpose
    assert content_words(typed) == ["moodle", "load"]  # the stop word, not "doesn", however typed
    posts = [post(i, f"الواي فاي لا يعمل في السكن منذ الصباح {i}") for i in range(6)]
    themes = themes_for(posts, background=["printer jammed"] * 20, limit=1)
    assert themes and themes[0].count == 6
    assert set(themes[0].label.split()) <= {"الواي", "فاي", "يعمل", "السكن", "منذ", "الصباح"}


def test_themes_of_complaints_in_chinese_come_from_the_words_they_share() -> None:
    """Chinese is written without spaces: each post was one "word" of its own, shared by no other post, so
    complaints in Chinese never made a theme. Their character pairs do: the real words recur."""
    assert content_words("教务系统又崩了") == ["教务", "务系", "系统", "统又", "又崩", "崩了"]
    assert content_words("Moodle登录不了") == ["moodle", "登录", "录不", "不了"]
    posts = [
        post(1, "宿舍的无线网又断了"),
        post(2, "图书馆无线网连不上"),
        post(3, "无线网断了一整天，作业交不了"),  # noqa: RUF001 - other scripts on purpose
        post(4, "无线网太慢了"),
        post(5, "打印机又坏了"),
    ]
    background = ["打印机又坏了", "邮箱登录不了", "课表看不到"] * 10
    themes = themes_for(posts, background=background, limit=1)
    assert [(t.label, t.count) for t in themes] == [("无线", 4)]  # "wireless" (its other pair says the same)
    # A service's own name is no theme of its complaints, in Chinese as in English: then "断了", dropped.
    themes = themes_for(posts, background=background, ignore=frozenset({"无线", "线网"}), limit=1)
    assert [(t.label, t.count) for t in themes] == [("断了", 2)]


def test_themes_of_welsh_and_spanish_complaints_are_not_their_function_words() -> None:
    """Complaints in Welsh are fewer than in English, so against the usual (English) complaints "ddim" (not),
    "mae'r" and "heddiw" (today) stood out as the week's themes; the English ones were stop words."""
    welsh = [
        "Mae'r argraffydd ddim yn gweithio heddiw",
        "Dydy'r argraffydd ddim yn argraffu o gwbl, mae'r papur yn sownd",
        "Mae'r argraffydd yn y llyfrgell wedi torri eto heddiw",
        "Dydy'r argraffydd ddim yn derbyn fy ngherdyn heddiw",
    ]
    spanish = ["La impresora de la biblioteca no funciona desde esta mañana"] * 2
    posts = [post(i, text) for i, text in enumerate(welsh + spanish)]
    background = ["the printer in the library is jammed", "print credit not showing"] * 20
    themes = themes_for(posts, background=background, limit=3)
    labels = " ".join(t.label for t in themes).split()
    assert labels and labels[0] == "argraffydd"  # printer
    assert not {"mae'r", "ddim", "heddiw", "dydy'r", "desde", "esta"} & set(labels)
