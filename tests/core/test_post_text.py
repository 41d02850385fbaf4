"""People's words on pages, e-mails and PDFs: written in their own direction and shortened at a whole
character (the post_text template filters)."""

from __future__ import annotations

import pytest

from servicepulse.core.templatetags.post_text import text_dir, truncategraphemes

WALES = "\U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f"  # 7 code points, one flag
CODER = "\U0001f469\U0001f3fd\u200d\U0001f4bb"  # woman technologist, medium skin tone


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("الواي فاي لا يعمل في السكن!", "rtl"),
        ("@ITServiceDesk https://x.example/a الواي فاي لا يعمل", "rtl"),  # leading handle and link skipped
        ("שלום, המייל לא עובד", "rtl"),
        ("«البريد» down?", "rtl"),  # first letter with a direction decides, as dir="auto"
        ("Mae'r e-bost i lawr: البريد", "ltr"),
        ("教务系统登不上", "ltr"),
        ("@علي", "rtl"),  # only a handle: its own letters
        ("!!! 123", "ltr"),
        ("", "ltr"),
        (None, "ltr"),
    ],
)
def test_text_dir(text: str | None, direction: str) -> None:
    assert text_dir(text) == direction


def test_truncation_keeps_flags_emoji_and_accents_whole() -> None:
    text = "a" * 8 + WALES + "bbb"
    assert truncategraphemes(text, 11) == "a" * 8 + WALES + "b…"
    assert truncategraphemes(text, 10) == "a" * 8 + WALES + "…"
    assert truncategraphemes(text, 9) == "a" * 8 + "…"  # never a black flag with half its tags
    assert truncategraphemes("xx" + CODER + "yyyy", 4) == "xx" + CODER + "…"
    assert truncategraphemes("e\u0301" * 5, 3) == "e\u0301e\u0301…"
    assert truncategraphemes("Diolch " + WALES, 8) == "Diolch " + WALES  # 8 characters: kept whole
