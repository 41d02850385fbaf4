"""Markdown to safe HTML: the `markdown` library renders, nh3 sanitises. Nothing hand-written."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import markdown as markdown_lib
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "figcaption",
    "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol", "p", "pre", "q", "s",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
    # Footnotes (`Text[^1]` ... `[^1]: the note`): the reference and the note find each other by id. Only
    # the ids the Markdown footnotes extension writes are kept (`_footnote_ids_only`).
    "sup": {"id"},
    "li": {"id"},
}
_FOOTNOTE_ID = re.compile(r"fn(?:ref)?:[\w-]{1,40}")
# Comments place no ids at all: a commenter's `fn:1` would take a post's footnote link on the same page.
COMMENT_ATTRIBUTES = {tag: names - {"id"} for tag, names in ALLOWED_ATTRIBUTES.items()}
COMMENT_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "strong",
    "ul",
}
URL_SCHEMES = {"http", "https", "mailto"}


class _TitleHeadingProcessor(Treeprocessor):
    def run(self, root: Any) -> None:
        for element in root.iter("h1"):
            element.tag = "h2"


class TitleHeadingExtension(Extension):
    """A post's `# Heading` as <h2>: the page's one <h1> is the post's title, and the sanitiser (which has no
    h1) would otherwise drop the heading's tag and run its words into the text that follows."""

    def extendMarkdown(self, md: markdown_lib.Markdown) -> None:
        md.treeprocessors.register(_TitleHeadingProcessor(md), "title_heading", 5)


# Tables say their columns' alignment with `align`, which the sanitiser keeps; Markdown's default is a
# `style` attribute, which it removes (with every other style).
EXTENSIONS: list[str | Extension] = ["extra", "sane_lists", TitleHeadingExtension()]
EXTENSION_CONFIGS = {"extra": {"tables": {"use_align_attribute": True}}}


# Commenters' links are user-generated content: `nofollow ugc` says so (the convention search engines
# document), so the linked site earns nothing and link spam is pointless. Staff posts are the organisation's own
# words and carry plain links. `noopener` only matters with target="_blank", which the sanitiser never allows.
COMMENT_LINK_REL = "noopener nofollow ugc"


def sanitize_html(html: str, *, user_content: bool, tags: set[str] | None = None) -> str:
    """Keep only harmless markup. `user_content` (comments) marks every link rel="noopener nofollow ugc" and
    keeps no ids; staff posts keep plain links and footnote ids. Otherwise the same tags, attributes and URL
    schemes are allowed."""
    return _clean(
        html,
        tags=tags or ALLOWED_TAGS,
        link_rel=COMMENT_LINK_REL if user_content else None,
        attributes=COMMENT_ATTRIBUTES if user_content else ALLOWED_ATTRIBUTES,
    )


def _footnote_ids_only(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: an `id` survives only as a footnote's (`fn:1`, `fnref:1`), so no other id can
    clash with the page's own or be used for DOM clobbering; every other allowed attribute is kept."""
    if attribute == "id":
        return value if _FOOTNOTE_ID.fullmatch(value) else None
    return value


def _clean(
    html: str,
    *,
    tags: set[str],
    link_rel: str | None,
    url_relative: Callable[[str], str] | None = None,
    attributes: dict[str, set[str]] = ALLOWED_ATTRIBUTES,
) -> str:
    # nh3 strips any `rel` the author wrote (it is not an allowed attribute) and, when link_rel is set, adds
    # its own to every link.
    return nh3.clean(
        html,
        tags=tags,
        attributes=attributes,
        attribute_filter=_footnote_ids_only,
        url_schemes=URL_SCHEMES,
        link_rel=link_rel,
        url_relative=url_relative,
    )


def render_markdown(text: str) -> str:
    """A staff post's Markdown as sanitised HTML (raw HTML inside the Markdown is sanitised too)."""
    html = markdown_lib.markdown(
        text, extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html"
    )
    return sanitize_html(html, user_content=False)


def render_comment(text: str) -> str:
    """A comment as sanitised HTML: Markdown with a smaller set of tags (no images or headings)."""
    html = markdown_lib.markdown(text, extensions=["sane_lists"])
    return sanitize_html(html, user_content=True, tags=COMMENT_TAGS)


def absolutize_post_urls(html: str, *, base: str) -> str:
    """A post's rendered HTML with relative link and image URLs resolved against `base` (the post's absolute
    URL), for feeds: a feed reader resolves them against the feed, or not at all, and shows broken images.

    Absolute URLs and fragment-only links (`#notes`, a place in the post itself) are left as they are. The
    HTML is sanitised again on the way, as a staff post, so this can never let through what rendering would
    not (and a post stored before staff links lost their `rel` comes out with plain links).
    """

    def resolve(url: str) -> str:
        # nh3 calls this only for URLs without a scheme: path-relative, root-relative, scheme-relative
        # (`//host/x`), query-only, fragment-only and empty ones.
        return url if url.startswith("#") else urljoin(base, url)

    return _clean(html, tags=ALLOWED_TAGS, link_rel=None, url_relative=resolve)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "head", "template"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "head", "template"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The visible text of an HTML fragment or page, whitespace collapsed."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


URL_RE = re.compile(r"https?://", re.IGNORECASE)


def count_links(text: str) -> int:
    """Links in a comment as WordPress counts them: every `http(s)://` and every `<a ` in the text."""
    return max(len(URL_RE.findall(text)), len(re.findall(r"<a\s", text, re.IGNORECASE)))
