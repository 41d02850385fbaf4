from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.utils import timezone

from servicepulse.blog.models import Post, PostStatus, Tag
from servicepulse.blog.schedule import SCHEDULE
from servicepulse.blog.services import post_create_draft, post_publish, posts_publish_due

pytestmark = pytest.mark.django_db


class _FormValues(HTMLParser):
    """What a browser submits for a page's form as it is shown: fields with their values, checked boxes and
    radios only, a textarea without the newline that follows its start tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        name = attr.get("name")
        if tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "input" and name and name != "csrfmiddlewaretoken":
            if attr.get("type") in {"checkbox", "radio"} and "checked" not in attr:
                return
            self.values[name] = attr.get("value") or ("on" if attr.get("type") == "checkbox" else "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea:
            self.values[self._textarea] = self.values[self._textarea].removeprefix("\n")
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def _form_values(html: str) -> dict[str, str]:
    parser = _FormValues()
    parser.feed(html)
    return parser.values


def _csp(response) -> dict[str, set[str]]:
    directives = (part.split() for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: set(values) for name, *values in directives}


def test_markdown_is_rendered_and_sanitised(make_post):
    post = make_post(body="# Title\n\nSome **bold** text <script>alert(1)</script> [x](javascript:alert(1))")
    assert "<strong>bold</strong>" in post.body_html
    assert "<script" not in post.body_html
    assert "javascript:" not in post.body_html


def test_post_create_draft_is_public_entry_point_and_stays_hidden(client, admin_user):
    post = post_create_draft(
        title="You said, we did: printing", body_markdown="We fixed it.", author=admin_user
    )
    assert post.status == PostStatus.DRAFT
    assert client.get(post.get_absolute_url()).status_code == 404
    assert post.title not in client.get("/blog/").content.decode()


def test_scheduled_post_publishes_when_due(make_post):
    post = make_post(publish=False)
    post_publish(post=post, at=timezone.now() + timedelta(hours=1))
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert posts_publish_due() == []
    assert posts_publish_due(now=timezone.now() + timedelta(hours=2)) == [post.pk]
    post.refresh_from_db()
    assert post.is_published


def test_schedule_registers_the_periodic_job():
    assert [job.name for job in SCHEDULE] == [
        "blog.publish_due_posts",
        "blog.forget_addresses",
        "blog.purge_old",
    ]
    assert SCHEDULE[0].seconds == 60


def test_index_tag_archive_and_search(client, make_post):
    a = make_post(title="Eduroam in Hadley", body="Wi-Fi news", tags=["Wi-Fi"])
    b = make_post(title="VLE deadline night", body="The VLE failed", tags=["VLE"])
    page = client.get("/blog/").content.decode()
    assert a.title in page and b.title in page
    assert 'class="h-entry' in page
    tagged = client.get("/blog/tag/vle/").content.decode()
    assert b.title in tagged and a.title not in tagged
    found = client.get("/blog/", {"q": "eduroam"}).content.decode()
    assert a.title in found and b.title not in found
    month = a.published_at.astimezone(timezone.get_current_timezone())
    assert a.title in client.get(f"/blog/archive/{month.year}/{month.month}/").content.decode()
    assert client.get("/blog/archive/").status_code == 200


def test_a_tag_no_published_post_carries_is_not_found(client, make_post):
    # An unknown tag answered 200 with "Posts tagged “nonsense”" over an empty list (and a tag only a draft
    # carried showed its name to anyone who guessed the address); both are now not found, as a post is.
    make_post(title="Next term's plans", tags=["Secret project"], publish=False)
    make_post(title="VLE deadline night", tags=["VLE"])
    assert client.get("/blog/tag/nonsense/").status_code == 404
    assert client.get(Tag.objects.get(name="Secret project").get_absolute_url()).status_code == 404
    assert client.get("/blog/tag/vle/").status_code == 200


def test_retitling_a_published_post_keeps_its_address(client, admin_user, make_post):
    post = make_post(title="Deadline night")
    address = post.get_absolute_url()
    client.force_login(admin_user)
    url = f"/blog/posts/{post.slug}/edit/"
    shown = _form_values(client.get(url).content.decode())
    response = client.post(url, {**shown, "title": "What happened on deadline night"})
    post.refresh_from_db()
    assert post.title == "What happened on deadline night" and post.get_absolute_url() == address
    assert response["Location"] == url
    client.logout()
    assert "What happened on deadline night" in client.get(address).content.decode()


def test_tags_without_latin_letters_each_keep_a_slug_of_their_own(client, make_post):
    # A tag with no Latin letters was slugged "tag-{count + 1}": once one was deleted, the next new Chinese tag
    # asked for a slug another tag held, and get_or_create gave the post that other tag ("邮件" became "服务").
    # "C++" got "C" the same way, both slugifying to "c".
    first = make_post(title="Network week", tags=["网络", "服务", "C"])
    network = Tag.objects.get(name="网络")
    old_slug = network.slug
    network.delete()
    second = make_post(title="Mail delays", tags=["邮件", "C++"])
    assert sorted(t.name for t in second.tags.all()) == ["C++", "邮件"]
    assert sorted(t.name for t in first.tags.all()) == ["C", "服务"]
    assert Tag.objects.values("slug").distinct().count() == Tag.objects.count() == 4
    mail = Tag.objects.get(name="邮件")
    page = client.get(mail.get_absolute_url()).content.decode()
    assert second.title in page and first.title not in page
    assert "Posts tagged “邮件”" in page  # its name, not its slug
    # The same name always asks for the same slug: a tag made again keeps its old links.
    make_post(title="Network again", tags=["网络"])
    assert Tag.objects.get(name="网络").slug == old_slug


def test_posts_titled_without_latin_letters_never_take_a_deleted_posts_address(client, make_post):
    # Chinese titles were slugged "post", "post-2", ...: the first free number, so a new post took the address
    # (and the feed id, which is the address) of a deleted one, and old links and feed readers showed it instead.
    outage = make_post(title="网络故障")
    delays = make_post(title="邮件延迟")
    assert outage.slug != delays.slug
    old_address = outage.get_absolute_url()
    outage.delete()
    printers = make_post(title="打印机")
    assert printers.get_absolute_url() != old_address
    assert client.get(old_address).status_code == 404
    assert "邮件延迟" in client.get(delays.get_absolute_url()).content.decode()
    assert make_post(title="打印机").slug == f"{printers.slug}-2"  # the same title again: a number after it


def test_post_page_has_microformats_and_discovery(client, make_post, admin_user):
    post = make_post(author=admin_user)
    response = client.get(post.get_absolute_url())
    html = response.content.decode()
    assert response["Link"] == f'<{settings.BASE_URL}/blog/webmention/>; rel="webmention"'
    assert response["X-Pingback"] == f"{settings.BASE_URL}/xmlrpc/"
    assert '<link rel="webmention" href="/blog/webmention/">' in html
    assert '<link rel="pingback" href="/xmlrpc/">' in html
    for cls in ("h-entry", "p-name", "e-content", "dt-published", "p-author h-card", "u-url"):
        assert cls in html
    assert "trackback:ping=" in html


def test_only_admins_write(client, users):
    assert client.get("/blog/write/").status_code == 302
    client.force_login(users["responder"])
    assert client.get("/blog/write/").status_code == 403
    client.force_login(users["admin"])
    assert client.get("/blog/write/").status_code == 200
    response = client.post(
        "/blog/write/",
        {
            "title": "Printing credit",
            "body_markdown": "Now *free*.",
            "tags": "Printing, Students",
            "action": "publish",
            "comments_enabled": "on",
        },
    )
    assert response.status_code == 302
    post = Post.objects.get(title="Printing credit")
    assert post.is_published and sorted(t.name for t in post.tags.all()) == ["Printing", "Students"]
    response = client.post(
        f"/blog/posts/{post.slug}/edit/",
        {
            "title": "Printing credit",
            "body_markdown": "Later.",
            "action": "schedule",
            "publish_at": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert client.get("/blog/drafts/").status_code == 200


def test_editing_a_scheduled_post_keeps_it_scheduled_at_its_time(client, admin_user, make_post):
    post = make_post(title="Exam week Wi-Fi", body="Wi-Fi is beeing upgraded.", publish=False)
    at = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    post_publish(post=post, at=at)
    client.force_login(admin_user)
    url = f"/blog/posts/{post.slug}/edit/"

    shown = _form_values(client.get(url).content.decode())
    assert shown["action"] == "schedule"
    assert shown["publish_at"] == at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {**shown, "body_markdown": "Wi-Fi is being upgraded."})

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.body_markdown == "Wi-Fi is being upgraded."
    assert (post.status, post.publish_at, post.published_at) == (PostStatus.SCHEDULED, at, None)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Saved “Exam week Wi-Fi” (scheduled)."]


def test_editing_keeps_a_published_post_published_and_a_draft_a_draft(client, admin_user, make_post):
    published = make_post(title="Published one")
    draft = make_post(title="Draft one", publish=False)
    client.force_login(admin_user)
    for post, status in ((published, PostStatus.PUBLISHED), (draft, PostStatus.DRAFT)):
        url = f"/blog/posts/{post.slug}/edit/"
        shown = _form_values(client.get(url).content.decode())
        assert client.post(url, {**shown, "excerpt": "Edited."}).status_code == 302
        post.refresh_from_db()
        assert (post.status, post.excerpt) == (status, "Edited.")


def test_unscheduling_is_still_a_choice(client, admin_user, make_post):
    post = make_post(publish=False)
    post_publish(post=post, at=timezone.now() + timedelta(days=2))
    client.force_login(admin_user)
    url = f"/blog/posts/{post.slug}/edit/"
    shown = _form_values(client.get(url).content.decode())
    client.post(url, {**shown, "action": "draft"})
    post.refresh_from_db()
    assert (post.status, post.publish_at) == (PostStatus.DRAFT, None)


@pytest.mark.parametrize(
    "path", ["0/1", "99999/1", "10000/6", "1/1", "9999/12", "2024/0", "2024/13", "2024/99999999999999999999"]
)
def test_archive_month_out_of_range_is_not_found(client, path):
    assert client.get(f"/blog/archive/{path}/").status_code == 404


def test_archive_month_without_posts_is_an_empty_page(client):
    response = client.get("/blog/archive/2024/2/")
    assert response.status_code == 200
    assert "Posts from February 2024" in response.content.decode()


def test_post_images_from_other_sites_are_allowed_by_the_csp(client, make_post):
    post = make_post(body="The new map: ![Campus map](https://maps.example.org/campus.png)")
    response = client.get(post.get_absolute_url())
    assert 'src="https://maps.example.org/campus.png"' in response.content.decode()
    csp = _csp(response)
    # https images from anywhere, but no plain http (mixed content) and no other schemes.
    assert csp["img-src"] == {"'self'", "data:", "https:"}
    assert csp["default-src"] == csp["script-src"] == {"'self'"}
    assert csp["object-src"] == {"'none'"}


def _article(html: str) -> str:
    return html.split('<div class="e-content">', 1)[1].split("</div>\n", 1)[0]


def test_a_post_written_in_markdown_keeps_its_formatting_and_loses_its_scripts(
    client, admin_user, blog_settings
):
    body = (
        "# Why the VLE was slow\n\n"
        'Read [the report](https://it.example.org/report "Report").\n\n'
        "![Load graph](https://img.example.org/load.png)\n\n"
        "## What we changed\n\n"
        "```python\nif load > 0.9:\n    scale_out()\n```\n\n"
        "| Week | Load |\n|:-----|-----:|\n| 1 | 93% |\n\n"
        '<script>alert(1)</script><img src="https://img.example.org/x.png" onerror="alert(2)">'
        '<a href="javascript:alert(3)" onclick="alert(4)">click</a> [md](javascript:alert(5))\n'
    )
    client.force_login(admin_user)
    client.post("/blog/write/", {"title": "VLE load", "body_markdown": body, "action": "draft"})
    post = Post.objects.get(title="VLE load")
    preview = _article(client.get(post.get_absolute_url()).content.decode())

    # `# heading` is a heading under the page's title, not words run into the next paragraph.
    assert "<h2>Why the VLE was slow</h2>" in preview and "<h2>What we changed</h2>" in preview
    assert '<a href="https://it.example.org/report" title="Report"' in preview
    assert '<img alt="Load graph" src="https://img.example.org/load.png">' in preview
    assert '<pre><code class="language-python">if load &gt; 0.9:\n    scale_out()\n</code></pre>' in preview
    assert '<th align="left">Week</th>' in preview and '<td align="right">93%</td>' in preview
    for banned in ("<script", "alert(1)", "onerror", "onclick", "javascript:"):
        assert banned not in preview, banned

    shown = _form_values(client.get(f"/blog/posts/{post.slug}/edit/").content.decode())
    client.post(f"/blog/posts/{post.slug}/edit/", {**shown, "action": "publish"})
    client.logout()
    assert _article(client.get(post.get_absolute_url()).content.decode()) == preview


def test_the_schedule_is_read_and_said_in_the_organisations_time_zone(client, admin_user, blog_settings):
    blog_settings.TIME_ZONE = "Europe/London"
    client.force_login(admin_user)
    form = client.get("/blog/write/").content.decode()
    assert '<label for="id_publish_at">Publish at (Europe/London time):</label>' in form
    assert "your local time" not in form
    client.post(
        "/blog/write/",
        {"title": "Clearing", "body_markdown": "x", "action": "schedule", "publish_at": "2030-07-15T09:00"},
    )
    post = Post.objects.get(title="Clearing")
    london = timezone.get_current_timezone()
    assert post.publish_at == datetime(2030, 7, 15, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert posts_publish_due(now=datetime(2030, 7, 15, 8, 59, tzinfo=london)) == []
    client.logout()
    assert client.get(post.get_absolute_url()).status_code == 404
    assert posts_publish_due(now=datetime(2030, 7, 15, 9, 0, tzinfo=london)) == [post.pk]
    assert client.get(post.get_absolute_url()).status_code == 200


def test_a_post_edited_in_the_django_admin_shows_its_new_text(client, make_post, users):
    post = make_post(title="Printing", body="Printing is **paid**.")
    superuser = users["admin"]
    superuser.is_staff = superuser.is_superuser = True
    superuser.save()
    client.force_login(superuser)

    def split(name: str) -> dict[str, str]:  # the admin's date and time inputs for a datetime field
        value = timezone.localtime(getattr(post, name))
        return {f"{name}_0": f"{value:%Y-%m-%d}", f"{name}_1": f"{value:%H:%M:%S}"}

    data = {
        "title": post.title, "slug": post.slug, "author": "", "excerpt": "", "status": "published",
        "body_markdown": "Printing is **free** <script>alert(1)</script>.",
        "publish_at_0": "", "publish_at_1": "", **split("published_at"), **split("created_at"),
        **split("updated_at"), "comments_enabled": "on", "pings_enabled": "on", "close_comments_after_days": "",
        "import_key": "",
    }  # fmt: skip
    response = client.post(f"/admin/blog/post/{post.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    client.logout()
    article = _article(client.get(post.get_absolute_url()).content.decode())
    assert "<strong>free</strong>" in article and "paid" not in article and "<script" not in article


def test_staff_post_links_are_plain_and_comment_links_are_marked_user_generated(
    client, make_post, admin_user
):
    from servicepulse.blog.models import Decision
    from servicepulse.blog.services import comment_submit, comments_moderate

    post = make_post(
        author=admin_user,
        body=(
            "Read [the report](https://it.example.org/report) and the "
            '<a href="https://it.example.org/plan" rel="nofollow" target="_blank" onclick="x()">plan</a>.'
        ),
    )
    comment = comment_submit(
        post=post,
        body="Spam at [cheap pills](https://pills.example.com/)",
        author_name="Sam",
        author_email="sam@example.org",
    )
    comments_moderate(comment_ids=[comment.pk], decision=Decision.APPROVED, moderator=None)
    page = client.get(post.get_absolute_url()).content.decode()
    article = _article(page)

    # The organisation's own post vouches for its links: no rel at all (and, with no target="_blank"
    # surviving the sanitiser, no need for noopener); what the author wrote for rel is not kept either.
    assert '<a href="https://it.example.org/report">the report</a>' in article
    assert '<a href="https://it.example.org/plan">plan</a>' in article
    for banned in ("rel=", "target=", "onclick"):
        assert banned not in article, banned
    # A commenter's link still earns nothing.
    assert '<a href="https://pills.example.com/" rel="noopener nofollow ugc">cheap pills</a>' in page


def test_footnotes_link_to_their_notes_and_no_other_id_survives():
    from servicepulse.blog.markup import render_comment, render_markdown

    html = render_markdown(
        "The VLE was slow[^load].\n\n[^load]: Measured at 09:00.\n\n"
        '<p id="csrfmiddlewaretoken">clobber</p><sup id="fn:ok x">bad</sup>'
    )
    # The reference and the note point at each other, so the reader can jump both ways.
    assert '<sup id="fnref:load"><a href="#fn:load">1</a></sup>' in html
    assert '<li id="fn:load">' in html and 'href="#fnref:load"' in html
    assert "csrfmiddlewaretoken" not in html and 'id="fn:ok x"' not in html
    assert "id=" not in render_comment('<li id="fn:1">a commenter cannot place ids</li> x')


def clock_change_nights(year: int) -> tuple[date, date]:
    """The nights Europe/London's clocks go forward (the last Sunday of March: 01:30 is skipped) and back
    (the last Sunday of October: 01:30 happens twice)."""
    march, october = date(year, 3, 31), date(year, 10, 31)
    skipped = march - timedelta(days=(march.weekday() + 1) % 7)  # weekday(): Monday 0, Sunday 6
    repeated = october - timedelta(days=(october.weekday() + 1) % 7)
    return skipped, repeated


def test_a_schedule_on_a_clock_change_night_is_answered_in_words(client, admin_user, blog_settings):
    """Django's own field answered both nights with "couldn't be interpreted in time zone Europe/London; it
    may be ambiguous or it may not exist". A repeated time is taken at its first occurrence, saying so; a
    skipped one is refused, saying the clocks went forward. On the real clock, next year's nights (a
    schedule is in the future; freezegun's datetimes lose the fold that tells 01:30 BST from 01:30 GMT)."""
    blog_settings.TIME_ZONE = "Europe/London"
    client.force_login(admin_user)
    skipped, repeated = clock_change_nights(timezone.now().year + 1)
    form = {"title": "Clearing", "body_markdown": "x", "action": "schedule"}

    refused = client.post("/blog/write/", {**form, "publish_at": f"{skipped}T01:30"})
    text = refused.content.decode().replace("&#x27;", "'")
    assert refused.status_code == 200 and not Post.objects.filter(title="Clearing").exists()
    day = f"{skipped.day} {skipped:%b %Y}"
    assert (
        f"{day}, 01:30 does not exist in Europe/London: the clocks went forward that night (GMT to BST), "
        f"skipping it. Enter a time outside the skipped hour, for example {day}, 02:30 BST."
    ) in text
    assert "couldn" not in text and "Say when to publish" not in text

    response = client.post("/blog/write/", {**form, "publish_at": f"{repeated}T01:30"}, follow=True)
    post = Post.objects.get(title="Clearing")
    first = datetime(repeated.year, repeated.month, repeated.day, 0, 30, tzinfo=UTC)  # 01:30 BST
    assert (post.status, post.publish_at) == (PostStatus.SCHEDULED, first)
    day = f"{repeated.day} {repeated:%b %Y}"
    assert [str(m) for m in response.context["messages"]] == [
        "Saved “Clearing” (scheduled).",
        f"{day}, 01:30 happens twice in Europe/London as the clocks go back: it was taken as the first, "
        f"{day}, 01:30 BST, not the second, {day}, 01:30 GMT (an hour later).",
    ]
