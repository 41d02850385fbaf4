"""The inbox in many languages: a post in Arabic reads right to left in the list and on its page (its
punctuation stays where its writer put it), and a long post is shortened at a whole character."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import MentionFactory

pytestmark = pytest.mark.django_db

WALES = "\U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f"


def test_inbox_list_and_item_read_arabic_right_to_left(clients: dict[str, Client]) -> None:
    mention = MentionFactory(text="@ITServiceDesk البريد الإلكتروني لا يعمل منذ الصباح؟", author="فاطمة")
    MentionFactory(text="e-bost ddim yn gweithio heddiw")
    html = clients["responder"].get(reverse("engage:inbox")).content.decode()
    cell = re.search(r'<td dir="(\w+)"><a href="[^"]*">@ITServiceDesk البريد', html)
    assert cell and cell.group(1) == "rtl"
    assert re.search(r'<td dir="ltr"><a href="[^"]*">e-bost ddim', html)
    assert '<td dir="rtl">فاطمة</td>' in html
    page = clients["responder"].get(reverse("engage:item", args=[mention.pk])).content.decode()
    assert '<p dir="rtl">@ITServiceDesk البريد' in page
    assert "<bdi>فاطمة</bdi> on" in page


def test_inbox_shortens_a_long_post_without_splitting_a_flag(clients: dict[str, Client]) -> None:
    MentionFactory(text="a" * 138 + WALES + " diolch am ddim byd")
    html = clients["responder"].get(reverse("engage:inbox")).content.decode()
    assert "a" * 138 + WALES + "…" in html
