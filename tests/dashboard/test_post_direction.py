"""Posts in right-to-left scripts keep their punctuation in place on the explorer and service pages (dir
from the text, not from the English page), and long posts are shortened at a whole character."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from servicepulse.mentions.models import Mention
from tests.factories import MentionFactory, ServiceFactory, analysed

pytestmark = pytest.mark.django_db

ARABIC = "@ITServiceDesk الواي فاي لا يعمل في السكن منذ الصباح!"
WALES = "\U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f"


def _wifi_complaint(mention: Mention, *, language: str = "") -> None:
    analysed(mention, services=[("wifi", 0.9)], language=language)


def _post_paragraph(html: str, start: str) -> str:
    match = re.search(rf"<p [^>]*>{re.escape(start)}", html)
    assert match, f"no paragraph starting {start!r}"
    return match.group(0)


def test_explorer_writes_each_post_in_its_direction_and_language(clients: dict[str, Client]) -> None:
    ServiceFactory(id="wifi", name="Wi-Fi")
    arabic = MentionFactory(text=ARABIC, author="علي")
    english = MentionFactory(text="wifi down in the library")
    for mention, language in ((arabic, "ar"), (english, "en")):
        _wifi_complaint(mention, language=language)
    html = clients["viewer"].get(reverse("dashboard:mentions")).content.decode()
    arabic_p = _post_paragraph(html, "@ITServiceDesk")
    assert 'dir="rtl"' in arabic_p and 'lang="ar"' in arabic_p
    english_p = _post_paragraph(html, "wifi down")
    assert 'dir="ltr"' in english_p and 'lang="en"' in english_p
    assert "<bdi>علي</bdi>" in html  # the author's name does not pull the '·' around it


def test_explorer_shortens_a_long_post_without_splitting_a_flag(clients: dict[str, Client]) -> None:
    MentionFactory(text="a" * 298 + WALES + " diolch am ddim byd")
    html = clients["viewer"].get(reverse("dashboard:mentions")).content.decode()
    assert "a" * 298 + WALES + "…" in html


def test_service_page_writes_posts_in_their_direction(clients: dict[str, Client]) -> None:
    ServiceFactory(id="wifi", name="Wi-Fi")
    mention = MentionFactory(text=ARABIC)
    _wifi_complaint(mention)
    html = clients["viewer"].get(reverse("dashboard:service", args=["wifi"])).content.decode()
    assert 'dir="rtl"' in _post_paragraph(html, "@ITServiceDesk")


def test_explorer_filters_by_language_regional_codes_included(clients: dict[str, Client]) -> None:
    ServiceFactory(id="wifi", name="Wi-Fi")
    for text, language in (
        ("dim wifi yn y llyfrgell", "cy"),
        ("wifi down in the library", "en"),
        ("wifi down in halls", "en-GB"),  # as a platform sends it
        ("教务系统又崩了", "zh"),
    ):
        _wifi_complaint(MentionFactory(text=text), language=language)
    viewer = clients["viewer"]
    page = viewer.get(reverse("dashboard:mentions")).content.decode()
    # commonest first, named, regional codes counted under their language
    options = re.findall(r'<option value="(\w+)">([^<]+)</option>', page.split('name="language"')[1])
    assert options[:3] == [("en", "English (en)"), ("cy", "Welsh (cy)"), ("zh", "Chinese (zh)")]
    english = viewer.get(reverse("dashboard:mentions"), {"language": "en"}).content.decode()
    assert "2 posts" in english and "wifi down in halls" in english and "llyfrgell" not in english
    welsh = viewer.get(reverse("dashboard:mentions"), {"language": "cy"}).content.decode()
    assert "1 post" in welsh and "llyfrgell" in welsh and "wifi down" not in welsh
    # The download follows the same filter.
    csv_text = viewer.get(reverse("dashboard:mentions-export"), {"language": "zh"}).content.decode(
        "utf-8-sig"
    )
    assert "教务系统又崩了" in csv_text and "wifi" not in csv_text
    # A language no post is in yet (a saved link) filters to nothing rather than being ignored.
    none = viewer.get(reverse("dashboard:mentions"), {"language": "fr"}).content.decode()
    assert "0 posts" in none
