"""`servicepulse import-wordpress` with a WXR export of the demo's shape."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from servicepulse.blog.models import Comment, CommentKind, CommentStatus, Post, PostStatus
from servicepulse.mentions.models import Mention

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def _run(path: Path, *, exit_code: int = 0) -> tuple[dict, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("import_wordpress", str(path), stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    assert code == exit_code
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def test_wxr_fixture_imports_cleanly_twice():
    first, errors = _run(FIXTURES / "northgate-blog.wxr.xml")
    assert errors == ""
    assert first == {"authors": 2, "posts": 3, "comments": 5, "linkbacks": 2, "unchanged": 0, "skipped": 0}
    second, errors = _run(FIXTURES / "northgate-blog.wxr.xml")
    assert errors == ""
    assert second == {"authors": 0, "posts": 0, "comments": 0, "linkbacks": 0, "unchanged": 3, "skipped": 0}
    assert Post.objects.count() == 3 and Comment.objects.count() == 7
    assert User.objects.filter(username__startswith="wp-").count() == 2

    vle = Post.objects.get(slug="vle-outage-deadline-night")
    assert vle.status == PostStatus.PUBLISHED and vle.author.get_full_name() == "Helen Morrow"
    assert "<script" not in vle.body_html and "full incident report" in vle.body_html
    assert sorted(tag.name for tag in vle.tags.all()) == ["Incidents", "VLE"]
    assert vle.published_at.isoformat() == "2026-10-16T08:30:00+00:00"
    sam = Comment.objects.get(import_key__endswith=":comment:501")
    helen = Comment.objects.get(import_key__endswith=":comment:502")
    again = Comment.objects.get(import_key__endswith=":comment:503")
    assert helen.parent == sam and again.parent == helen and again.depth == 3  # reply came before its parent
    assert Comment.objects.get(import_key__endswith=":comment:504").kind == CommentKind.PINGBACK
    assert Comment.objects.get(import_key__endswith=":comment:505").status == CommentStatus.SPAM
    assert Comment.objects.get(import_key__endswith=":comment:520").status == CommentStatus.PENDING
    trackback = Comment.objects.get(import_key__endswith=":comment:521")
    assert trackback.kind == CommentKind.TRACKBACK and trackback.source_url.startswith("https://library.")
    assert Post.objects.get(title__startswith="Draft:").status == PostStatus.DRAFT
    assert not Post.objects.filter(title="About this blog").exists()  # pages are not posts
    # Approved comments became staff-voice mentions, once.
    assert Mention.objects.filter(source__kind="blog").count() == 3


def test_broken_items_are_reported_and_skipped():
    report, errors = _run(FIXTURES / "northgate-blog-broken.wxr.xml", exit_code=1)
    assert report["posts"] == 4 and report["skipped"] == 3
    assert "no title" in errors and "bad date" in errors and "comment 530: no date" in errors
    assert Comment.objects.filter(import_key__endswith=":comment:531").exists()
    again, _ = _run(FIXTURES / "northgate-blog-broken.wxr.xml", exit_code=1)
    assert again["posts"] == 0 and again["comments"] == 0


def test_not_a_wxr_file(tmp_path):
    bad = tmp_path / "x.xml"
    bad.write_text("<rss><channel><title>plain RSS</title></channel></rss>")
    with pytest.raises(CommandError, match="not a WordPress export"):
        call_command("import_wordpress", str(bad))
    bad.write_text("<<<")
    with pytest.raises(CommandError, match="not a readable XML"):
        call_command("import_wordpress", str(bad))


def test_a_post_whose_wordpress_slug_is_percent_encoded_gets_one_its_address_can_carry(client, tmp_path):
    # WordPress keeps a Chinese post's slug percent-encoded ("%e7%bd%91..."). Taken as it was, no address could
    # be made for the post: the import, and every blog page listing it, failed on NoReverseMatch.
    wxr = (FIXTURES / "northgate-blog.wxr.xml").read_text()
    wxr = wxr.replace(
        "<wp:post_name><![CDATA[vle-outage-deadline-night]]>",
        "<wp:post_name><![CDATA[%e7%bd%91%e7%bb%9c%e6%95%85%e9%9a%9c]]>",
    )
    path = tmp_path / "chinese.wxr.xml"
    path.write_text(wxr)
    report, errors = _run(path)
    assert errors == "" and report["posts"] == 3
    post = Post.objects.get(import_key__endswith=":post:101")
    assert post.slug == "what-the-vle-outage-on-deadline-night-taught-us"  # from its title
    assert client.get(post.get_absolute_url()).status_code == 200
    assert client.get("/blog/").status_code == 200
