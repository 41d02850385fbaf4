"""The weekly report as HTML (page and e-mail), plain text and PDF (WeasyPrint). One body template serves
all three, so the PDF and the e-mail say exactly what the page says."""

from __future__ import annotations

import logging
from html import escape
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from servicepulse.experience.selectors import WeeklyReport

# The e-mail's styles, written into each element's style attribute: mail clients (Gmail, Outlook) drop or
# mangle a <style> block and every SVG, so the e-mail carries no stylesheet and no chart (the charts are in
# the attached PDF). By tag first, then by class, so a class overrides its tag (a number cell is right-aligned).
EMAIL_TAG_STYLES = {
    "body": "font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1d2330;line-height:1.4",
    "h1": "font-size:20px;margin:0 0 6px",
    "h2": "font-size:16px;margin:18px 0 6px;border-bottom:1px solid #c8ccd2;padding-bottom:3px",
    "table": "border-collapse:collapse;width:100%;margin:8px 0",
    "th": "padding:3px 6px;border-bottom:1px solid #d9dce1;text-align:left;vertical-align:middle",
    "td": "padding:3px 6px;border-bottom:1px solid #d9dce1;text-align:left;vertical-align:middle",
    "blockquote": "margin:4px 0 4px 12px;border-left:3px solid #d9dce1;padding-left:8px",
    "footer": "font-size:12px",
    "a": "color:#1f4e8c",
}
EMAIL_CLASS_STYLES = {
    "muted": "color:#5b6472",
    "pos": "color:#1b5e3a",
    "neg": "color:#a31f17",
    "num": "text-align:right",
    "notice": "background:#fff4d6;padding:6px 8px",
    "trend up": "color:#1b5e3a",
    "trend down": "color:#a31f17",
}


class _StyleInliner(HTMLParser):
    """Copies the HTML through unchanged but for a style attribute on each start tag, from the tables above."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool) -> str:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        styles = [EMAIL_TAG_STYLES.get(tag, "")]
        styles += [EMAIL_CLASS_STYLES.get(c, "") for c in classes]
        styles += [EMAIL_CLASS_STYLES.get(f"{a} {b}", "") for a in classes for b in classes if a != b]
        styles.append(values.pop("style", None) or "")
        style = ";".join(s.strip(";") for s in styles if s)
        if style:
            values["style"] = style
        rendered = "".join(
            f" {name}" if value is None else f' {name}="{escape(value, quote=True)}"'
            for name, value in values.items()
        )
        return f"<{tag}{rendered}{' /' if closed else ''}>"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self._tag(tag, attrs, closed=False))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self._tag(tag, attrs, closed=True))

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")


def inline_styles(html: str) -> str:
    """`html` with the e-mail's styles in each element's style attribute (EMAIL_TAG_STYLES, EMAIL_CLASS_STYLES)."""
    inliner = _StyleInliner()
    inliner.feed(html)
    inliner.close()
    return "".join(inliner.out)


def _context(report: WeeklyReport, **extra: Any) -> dict[str, Any]:
    return {"report": report, "organisation": settings.SERVICEPULSE_ORGANISATION, **extra}


def report_print_html(report: WeeklyReport) -> str:
    """A standalone HTML document (no navigation, print styles): the PDF's source."""
    return render_to_string("experience/report_print.html", _context(report, for_email=False))


def report_email_html(report: WeeklyReport) -> str:
    """The report as the e-mail's HTML: styles inline, no stylesheet, no SVG (mail clients drop both; the charts
    are in the attached PDF), links absolute."""
    return inline_styles(render_to_string("experience/report_print.html", _context(report, for_email=True)))


def report_text(report: WeeklyReport, *, attached: bool = False) -> str:
    """The report as plain text; `attached` when it goes out with the PDF (the e-mail), so the command that
    prints it does not promise an attachment."""
    return render_to_string("experience/report_email.txt", _context(report, attached=attached))


def report_pdf(report: WeeklyReport) -> bytes:
    """The report as PDF bytes, charts included (inline SVG drawn as vectors by WeasyPrint)."""
    # WeasyPrint logs one INFO line per layout step (and parses its own stylesheets on import).
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    from weasyprint import HTML

    pdf = HTML(string=report_print_html(report), base_url=getattr(settings, "BASE_URL", None)).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)
