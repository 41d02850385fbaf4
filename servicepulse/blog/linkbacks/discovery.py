"""Endpoint discovery and link finding, as the Webmention Recommendation (§3.1.2, §3.2.2) and Pingback say.

Webmention: the first HTTP `Link` header with rel "webmention" wins; else the first `<link>` or `<a>`
element in document order with rel "webmention" and an href; relative URLs resolve against the final URL
after redirects; an empty href means the page itself; the query string is kept. HTML comments and escaped
text never count.

Python's `html.parser` takes time quadratic in malformed markup (a page of "<!--" or "<a" repeated held a web
worker for minutes in the Pingback request), so a fetched page is first rewritten well-formed by nh3 (the
browsers' parsing algorithm, in linear time), keeping only what these parsers read (`_well_formed`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin

import nh3

from servicepulse.core.fetcher import FetchResponse


def _split_outside(value: str, separator: str) -> list[str]:
    """Split on `separator` where it is not inside <...> or "..." (RFC 8288 link-values and parameters)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = angled = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"' and not angled:
            quoted = not quoted
        elif char == "<" and not quoted:
            angled = True
        elif char == ">" and not quoted:
            angled = False
        elif char == separator and not quoted and not angled:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def parse_link_header(values: list[str]) -> list[tuple[str, set[str]]]:
    """[(uri, rels)] for every link-value of every Link header, in order (RFC 8288)."""
    links: list[tuple[str, set[str]]] = []
    for value in values:
        for link_value in _split_outside(value, ","):
            pieces = _split_outside(link_value.strip(), ";")
            target = pieces[0].strip()
            if not (target.startswith("<") and target.endswith(">")):
                continue
            rels: set[str] = set()
            for param in pieces[1:]:
                name, _, raw = param.partition("=")
                if name.strip().lower() != "rel":
                    continue
                raw = raw.strip()
                if len(raw) >= 2 and raw[0] == raw[-1] == '"':
                    raw = raw[1:-1]
                rels.update(token.lower() for token in raw.split())
            links.append((target[1:-1].strip(), rels))
    return links


class _RelLinkParser(HTMLParser):
    """Collects, in document order, <link>/<a> elements with an href and their rel tokens."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, set[str]]] = []  # (tag, href, rels)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in {"link", "a"}:
            return
        values = dict(attrs)
        if "href" not in values:
            return
        rels = {token.lower() for token in (values.get("rel") or "").split()}
        self.links.append((tag, values.get("href") or "", rels))

    handle_startendtag = handle_starttag


def _html_rel_links(html: str) -> list[tuple[str, str, set[str]]]:
    parser = _RelLinkParser()
    parser.feed(_well_formed(html))
    parser.close()
    return parser.links


def _is_html(response: FetchResponse) -> bool:
    content_type = (response.headers.get("content-type") or "text/html").lower()
    return "html" in content_type


def webmention_endpoint(response: FetchResponse) -> str | None:
    """The Webmention endpoint a fetched page advertises, absolute, or None."""
    base = response.url
    for uri, rels in parse_link_header(response.headers.get_list("link")):
        if "webmention" in rels:
            return urljoin(base, uri)
    if _is_html(response):
        for _tag, href, rels in _html_rel_links(response.text):
            if "webmention" in rels:
                return urljoin(base, href)
    return None


def pingback_endpoint(response: FetchResponse) -> str | None:
    """The Pingback server a page advertises: the X-Pingback header, else <link rel="pingback">."""
    header = response.headers.get("x-pingback")
    if header:
        return urljoin(response.url, header.strip())
    if _is_html(response):
        for tag, href, rels in _html_rel_links(response.text):
            if tag == "link" and "pingback" in rels and href:
                return urljoin(response.url, href)
    return None


# Elements whose URL attributes count as a link to the target when verifying (Webmention §3.2.2).
_URL_ATTRIBUTES = {
    "a": ("href",),
    "area": ("href",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "source": ("src",),
    "iframe": ("src",),
    "blockquote": ("cite",),
    "q": ("cite",),
    "ins": ("cite",),
    "del": ("cite",),
}


# Elements with no end tag: they open nothing, so they must not deepen the element being read.
_VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
    "wbr",
}  # fmt: skip
# Elements that separate words when a page is read as text (a line break, a new paragraph or cell).
_BREAKS = {
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure", "footer",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
    "table", "td", "th", "tr", "ul",
}  # fmt: skip


# What the parsers here read of a page: the elements with URL attributes, those that break words, the title, and
# the elements that carry microformats classes (h-card, p-author, e-content) around text.
_KEPT_TAGS = (
    set(_URL_ATTRIBUTES)
    | _BREAKS
    | {
        "abbr", "aside", "b", "bdi", "body", "caption", "cite", "code", "data", "em", "head", "html", "i",
        "label", "main", "mark", "picture", "s", "small", "span", "strong", "sub", "summary", "sup", "tbody",
        "tfoot", "thead", "time", "title", "u",
    }
)  # fmt: skip
_KEPT_ATTRIBUTES = {"*": {"class", "rel", "href", "src", "srcset", "poster", "cite"}}


def _well_formed(html: str) -> str:
    """`html` as nh3 writes it back, in time linear in its length: comments, scripts and styles gone, every
    tag closed and attribute quoted, text escaped, so `html.parser` reads it in linear time too."""
    return nh3.clean(
        html,
        tags=_KEPT_TAGS,
        clean_content_tags={"script", "style", "template"},
        attributes=_KEPT_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel=None,
        strip_comments=True,
    )


class _PageParser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.urls: list[str] = []
        self.outbound: list[str] = []  # <a href> only, for sending
        self.title = ""
        self._in_title = False
        self.author = ""
        self._author_depth = 0
        self._text: list[str] = []
        self._skip = 0
        self._content_depth = 0
        self.content: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in _URL_ATTRIBUTES.get(tag, ()):
            raw = values.get(name)
            if not raw:
                continue
            candidates = (
                [part.strip().split(" ")[0] for part in raw.split(",")] if name == "srcset" else [raw]
            )
            for candidate in candidates:
                url = urljoin(self.base, candidate.strip())
                self.urls.append(url)
                if tag == "a" and name == "href":
                    self.outbound.append(url)
        if tag in _BREAKS:
            self._break()
        if tag in _VOID:
            return
        classes = set((values.get("class") or "").split())
        if tag == "title":
            self._in_title = True
        if tag in {"script", "style", "template"}:
            self._skip += 1
        if self._content_depth:
            self._content_depth += 1
        elif "e-content" in classes:
            self._content_depth = 1
        if "p-author" in classes or ("h-card" in classes and not self.author):
            self._author_depth = 1
        elif self._author_depth:
            self._author_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAKS:
            self._break()
        if tag in _VOID:
            return
        if tag == "title":
            self._in_title = False
        if tag in {"script", "style", "template"} and self._skip:
            self._skip -= 1
        if self._content_depth:
            self._content_depth -= 1
        if self._author_depth:
            self._author_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if self._skip:
            return
        self._text.append(data)
        if self._content_depth:
            self.content.append(data)
        if self._author_depth and not self.author and data.strip():
            self.author = data.strip()

    def _break(self) -> None:
        if not self._skip:
            self._text.append(" ")
            if self._content_depth:
                self.content.append(" ")

    @property
    def text(self) -> str:
        content = re.sub(r"\s+", " ", "".join(self.content)).strip()
        return content or re.sub(r"\s+", " ", "".join(self._text)).strip()


@dataclass
class SourcePage:
    """What a linkback's source says: whether it links to the target, and a plain-text summary."""

    links_to_target: bool
    title: str = ""
    author: str = ""
    excerpt: str = ""
    outbound: list[str] = field(default_factory=list)


def _same_url(a: str, b: str) -> bool:
    return urldefrag(a)[0].rstrip("/") == urldefrag(b)[0].rstrip("/")


def read_source(response: FetchResponse, target: str, *, excerpt_chars: int = 500) -> SourcePage:
    """Inspect a fetched source. HTML counts only URL attributes of elements (not text, not comments); JSON
    counts a property value equal to the target; other text counts the target appearing in it."""
    content_type = (response.headers.get("content-type") or "").lower()
    body = response.text
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            return SourcePage(links_to_target=False)
        found = _json_has(data, target)
        return SourcePage(links_to_target=found, excerpt=body[:excerpt_chars] if found else "")
    if "html" in content_type or not content_type:
        parser = _PageParser(response.url)
        parser.feed(_well_formed(body))
        parser.close()
        linked = any(_same_url(url, target) for url in parser.urls)
        text = parser.text
        if len(text) > excerpt_chars:
            text = text[: excerpt_chars - 1].rsplit(" ", 1)[0] + "…"
        return SourcePage(
            links_to_target=linked,
            title=re.sub(r"\s+", " ", parser.title).strip()[:300],
            author=parser.author[:200],
            excerpt=text,
            outbound=parser.outbound,
        )
    found = target in body
    return SourcePage(
        links_to_target=found, excerpt=re.sub(r"\s+", " ", body)[:excerpt_chars] if found else ""
    )


def _json_has(data: object, target: str) -> bool:
    if isinstance(data, str):
        return _same_url(data, target)
    if isinstance(data, dict):
        return any(_json_has(value, target) for value in data.values())
    if isinstance(data, list):
        return any(_json_has(value, target) for value in data)
    return False


def outbound_links(html: str, *, base: str) -> list[str]:
    """Absolute http(s) URLs of <a href> in a post's HTML, in order, without duplicates or fragments."""
    parser = _PageParser(base)
    parser.feed(html)
    parser.close()
    seen: dict[str, None] = {}
    for url in parser.outbound:
        clean = urldefrag(url)[0]
        if clean.startswith(("http://", "https://")) and not _same_url(clean, base):
            seen.setdefault(clean, None)
    return list(seen)
