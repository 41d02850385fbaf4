"""The widget's server side: reporter tokens, the origin allow-list, the per-address rate limit, and the
one-report-per-person-per-service-per-hour rule.

Who is a person: the signed-in user where the host page shares our single sign-on (the browser sends our
session cookie), else the reporter token this endpoint issued (`django.core.signing`, salted per source) and
the browser keeps in localStorage. Reports are stored under a keyed hash of that identity, never the raw
token or user id. A second report by the same person about the same service within an hour is accepted
politely but not counted (not stored), so one person cannot make an outage.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from servicepulse.catalog.selectors import service_list
from servicepulse.core.ratelimit import client_address, rate_limit_hit
from servicepulse.mentions.models import Mention
from servicepulse.mentions.services import mentions_ingest
from servicepulse.sources.connectors.widget import wording
from servicepulse.sources.connectors.widget.parse import (
    MAX_COMMENT,
    PROBLEM_TYPES,
    ParseError,
    parse_report,
    report_to_mention,
)
from servicepulse.sources.connectors.widget.wording import FormLanguage
from servicepulse.sources.models import Source, SourceKind
from servicepulse.sources.options import as_bool, as_int

TOKEN_MAX_AGE = 365 * 24 * 3600
COUNT_WINDOW = timedelta(hours=1)
RATE_WINDOW = 3600  # seconds
# Reports per address per hour. A campus reaches the internet through a few shared (NAT) addresses, and an outage
# is when many people there report at once: 60 refused the 61st student of the hour. A bot gains little from a
# higher ceiling (a person's reports count once per service per hour, and detection needs several people).
DEFAULT_RATE_LIMIT = 300
# Loading the form (a reporter token and the service list) is cheap and happens on every page view of the
# host page: it has its own budget, this many times the reports', so that browsing the portal never uses up
# the reports' (it did: 60 page views an hour made the form "unavailable" for the whole campus).
SESSION_RATE_FACTOR = 10


FORM_EXPIRED = "form_expired"  # the reporter token is too old or forged: fetch a fresh one


class WidgetRefused(Exception):
    """A refused widget request: HTTP status, a sentence for the reporter and, where the page's script acts
    on it, a machine-readable `code` (the sentence may be reworded or translated; the code stays). `parts`
    is the sentence marked by language (`wording.reason_parts`); without them the reason is English."""

    def __init__(
        self,
        status: int,
        reason: str,
        *,
        retry_after: int | None = None,
        code: str = "",
        parts: list[wording.Part] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status, self.reason, self.retry_after, self.code = status, reason, retry_after, code
        self.parts = parts if parts is not None else wording.sentence_parts(reason)

    def body(self) -> dict[str, Any]:
        """The refusal's JSON: `error` (the phrase older embed scripts show) and `error_parts`."""
        return {"error": self.reason, "error_parts": self.parts} | ({"code": self.code} if self.code else {})


def _refusal(
    status: int,
    language: FormLanguage,
    key: str,
    *,
    retry_after: int | None = None,
    code: str = "",
    **params: Any,
) -> WidgetRefused:
    return WidgetRefused(
        status,
        wording.reason(language, key, **params),
        retry_after=retry_after,
        code=code,
        parts=wording.reason_parts(language, key, **params),
    )


@dataclass(frozen=True)
class Outcome:
    counted: bool
    mention_id: int | None = None
    message_parts: tuple[wording.Part, ...] = ()

    @property
    def message(self) -> str:
        return wording.joined(list(self.message_parts))

    def body(self) -> dict[str, Any]:
        """The answer's JSON: `message` joined (as older embed scripts show it) and in `message_parts`."""
        return {"counted": self.counted, "message": self.message, "message_parts": list(self.message_parts)}


def _outcome(
    language: FormLanguage, key: str, *, counted: bool = False, mention_id: int | None = None
) -> Outcome:
    return Outcome(
        counted=counted, mention_id=mention_id, message_parts=tuple(wording.say_parts(language, key))
    )


def widget_source(name: str) -> Source | None:
    return Source.objects.filter(name=name, kind=SourceKind.WIDGET, enabled=True).first()


def _option(source: Source, name: str, default: Any) -> Any:
    value = source.options.get(name)
    return default if value in (None, "") else value


def form_language(source: Source) -> FormLanguage:
    """The language the source's form speaks to people (its `language` option; English by default)."""
    return wording.form_language(source.options.get("language"))


def allowed_origins(source: Source) -> set[str]:
    value = _option(source, "allowed_origins", [])
    parts = value if isinstance(value, list) else str(value).split(",")
    return {str(p).strip().rstrip("/").lower() for p in parts if str(p).strip()}


def _own_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}".lower()


def check_origin(source: Source, request: HttpRequest) -> str:
    """The request's Origin when it may use this widget ("" for same-origin or non-browser callers)."""
    origin = request.headers.get("Origin", "").strip().rstrip("/").lower()
    if not origin or origin == _own_origin(request):
        return ""
    if origin in allowed_origins(source):
        return origin
    raise _refusal(403, form_language(source), "origin", origin=origin)


def check_rate(source: Source, request: HttpRequest, *, loading: bool = False) -> None:
    """At most `rate_limit_per_hour` reports per address per hour, and SESSION_RATE_FACTOR times as many
    loads of the form (each its own fixed window in Django's cache)."""
    try:
        limit = as_int(_option(source, "rate_limit_per_hour", DEFAULT_RATE_LIMIT), default=DEFAULT_RATE_LIMIT)
    except (TypeError, ValueError):
        limit = DEFAULT_RATE_LIMIT  # a mistyped setting must not open the endpoint wide
    if loading:
        scope, limit, what = f"widget-session:{source.pk}", limit * SESSION_RATE_FACTOR, "too_many_requests"
    else:
        scope, what = f"widget:{source.pk}", "too_many_reports"
    if rate_limit_hit(scope=scope, key=client_address(request), limit=limit, per=RATE_WINDOW) is not None:
        raise _refusal(429, form_language(source), what, retry_after=RATE_WINDOW)


def _salt(source: Source) -> str:
    return f"servicepulse.widget.reporter.{source.pk}"


def token_issue(source: Source) -> str:
    return signing.dumps({"r": uuid.uuid4().hex}, salt=_salt(source), compress=False)


def token_reporter(source: Source, token: str) -> str | None:
    """The reporter id inside a valid token of this source, else None."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=_salt(source), max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    reporter = data.get("r") if isinstance(data, dict) else None
    return reporter if isinstance(reporter, str) and reporter else None


def _pseudonym(source: Source, identity: str) -> str:
    key = f"{settings.SECRET_KEY}:widget:{source.pk}".encode()
    return "w:" + hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()[:32]


def services_offered(source: Source) -> dict[str, str]:
    try:
        public_only = as_bool(_option(source, "public_services_only", True), default=True)
    except ValueError:
        public_only = True
    return {s.id: s.name for s in service_list(public_only=public_only).order_by("order", "name")}


def session_payload(source: Source, request: HttpRequest) -> dict[str, Any]:
    """What the embed script needs: a reporter token (the one it has, when still valid), services, problem
    types, and the form's language (`lang`, its `lang` attribute) with every word it shows (`words`)."""
    token = request.headers.get("X-Widget-Token", "") or request.GET.get("token", "")
    if token_reporter(source, token) is None:
        token = token_issue(source)
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    privacy_url = str(_option(source, "privacy_url", "")).strip()
    language = form_language(source)
    title = str(_option(source, "title", ""))
    title_parts = (
        wording.say_parts(language, "title")
        if wording.default_title(title)
        else wording.written_parts(language, title)
    )
    word_parts = {key: wording.say_parts(language, key, limit=MAX_COMMENT) for key in wording.FORM_KEYS}
    notice_parts = privacy_notice(source, signed_in=signed_in)
    problem_types = []
    for key in PROBLEM_TYPES:
        label = wording.say_parts(language, f"problem_{key}")
        problem_types.append({"id": key, "label": wording.joined(label), "label_parts": label})
    # Each text twice: joined ("Welsh / English"), as an older embed script (cached by a host page) shows it,
    # and in `*_parts`, each part marked with its language, from which this script builds the form.
    return {
        "token": token,
        "signed_in": signed_in,
        "lang": wording.html_lang(language),
        "title": wording.joined(title_parts),
        "title_parts": title_parts,
        "services": [{"id": sid, "name": name} for sid, name in services_offered(source).items()],
        # The codes stay the same in every language; only their labels are the form's.
        "problem_types": problem_types,
        "words": {key: wording.joined(parts) for key, parts in word_parts.items()},
        "word_parts": word_parts,
        "notice": wording.joined(notice_parts),
        "notice_parts": notice_parts,
        # Only a web address becomes a link: the embedding page must never get a javascript: one.
        "privacy_url": privacy_url if privacy_url.lower().startswith(("https://", "http://")) else "",
    }


def privacy_notice(source: Source, *, signed_in: bool) -> list[wording.Part]:
    """What a report keeps and for how long, said under the form (what `report_submit` stores: the service,
    the problem, the comment, the page's address without its query, and a signed-in person's username; a
    signed-out reporter is a keyed hash, and no IP address is stored), in parts by language."""
    language = form_language(source)
    return wording.notice_parts(language, signed_in=signed_in, retention_days=source.retention_days)


def report_submit(source: Source, request: HttpRequest, body: Any) -> Outcome:
    """Check and store one report; raises WidgetRefused (400/403) with a reason the form can show, in its
    language (as is the outcome's message)."""
    language = form_language(source)
    try:
        report = parse_report(body, services=services_offered(source))
    except ParseError as exc:
        raise _refusal(400, language, exc.code, **exc.params) from None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        identity, author = f"user:{user.pk}", user.get_username()
    else:
        reporter = token_reporter(source, report.token)
        if reporter is None:
            raise _refusal(403, language, "expired", code=FORM_EXPIRED)
        identity, author = f"token:{reporter}", ""
    if report.honeypot:
        # A bot filled the hidden field: answer as if accepted, keep nothing.
        return _outcome(language, "thanks")
    pseudonym = _pseudonym(source, identity)
    now = timezone.now()
    recent = Mention.objects.filter(
        source=source,
        author_id=pseudonym,
        raw__service_id=report.service_id,
        created_at__gte=now - COUNT_WINDOW,
    ).exists()
    # The cache key makes the check atomic between two simultaneous submissions; the database check keeps
    # the rule when the cache has been cleared.
    gate = f"sp:widget:count:{source.pk}:{pseudonym}:{report.service_id}"
    if recent or not cache.add(gate, 1, timeout=int(COUNT_WINDOW.total_seconds())):
        return _outcome(language, "thanks_again")
    page = request.headers.get("Referer", "")[:500]
    mention = report_to_mention(
        report,
        external_id=uuid.uuid4().hex,
        reporter=pseudonym,
        author=author,
        created_at=now,
        page=_clean(page),
    )
    result = mentions_ingest(source=source, items=[mention])
    return _outcome(
        language, "thanks", counted=True, mention_id=result.mention_ids[0] if result.mention_ids else None
    )


def _clean(url: str) -> str:
    """Keep where the report came from without the query string (it may hold personal data)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme in ("http", "https") else ""
