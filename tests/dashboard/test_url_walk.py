"""Walk every URL pattern of the project as anonymous and as each role, and check the answer.

- A view that states a role (`servicepulse.accounts.roles`) sends anonymous people to sign in, answers 403 to
  anyone below the role, and lets the role and above in.
- A view that states no role is public: a servicepulse view must be named in `PUBLIC_VIEWS` (each listed in
  SECURITY.md), a third-party one must sit under sign-in or the Django admin — a new page that forgot its role
  check fails here, whatever its address.
- Everyone below a page's role is refused on POST too (every page, not just POST-only ones), and a viewer's
  POST (one unknown field) to a viewer page is refused (403), not allowed (405) or ignored (200, the page):
  a redirect or a 400 would mean the page acted on (or validated) a viewer's write, which needs the Responder
  role (but for `VIEWERS_OWN_WRITES`: a viewer's own private feed link).
- Only the endpoints SECURITY.md lists skip Django's CSRF check.
- Nothing ever answers 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from servicepulse.accounts.roles import RANK, Role

# servicepulse views anyone may open without signing in (public by decision, each in SECURITY.md's table).
# A servicepulse view that states no role and is not named here fails the walk.
PUBLIC_VIEWS = frozenset(
    {
        ":health",
        ":xmlrpc",
        "status:page",
        "status:incident",
        "status:maintenance",
        "status:feed",
        "status:summary",
        "status:badge",
        "status:subscribe",
        "status:subscribe_confirm",
        "status:unsubscribe",
        "blog:index",
        "blog:feed",
        "blog:rss",
        "blog:archive",
        "blog:archive_month",
        "blog:tag",
        "blog:webmention",
        "blog:comment_edit",  # the comment's own author only, within the editing window
        "blog:subscription_confirm",
        "blog:subscription_unsubscribe",
        "blog:post",
        "blog:comments_feed",
        "blog:trackback",
        "sources:webhook",
        "sources:widget-embed",
        "sources:widget-session",
        "sources:widget-report",
        "publish:digest_feed",  # a signed token naming a user who still holds a role
    }
)
# The one write a viewer may make: about themselves only, nothing anyone else sees (their own private feed link).
VIEWERS_OWN_WRITES = frozenset({"publish:digest_feed_new"})
# Views that take POSTs without Django's CSRF check, each for the reason SECURITY.md gives (a signature, a
# signed token, machine-to-machine protocols, one-click unsubscribe). A new csrf_exempt view fails the walk.
CSRF_EXEMPT_VIEWS = frozenset(
    {
        ":xmlrpc",
        "status:subscribe",
        "status:unsubscribe",
        "blog:webmention",
        "blog:trackback",
        "blog:subscription_unsubscribe",
        "sources:webhook",
        "sources:widget-session",
        "sources:widget-report",
    }
)
# Third-party views (allauth's sign-in pages, the Django admin with its own staff login) may live only here.
THIRD_PARTY_PREFIXES = ("/accounts/", "/admin/")
# Requests the walk must not make: they would end the walking clients' sessions.
NOT_WALKED = frozenset({"/accounts/logout/"})
DASHBOARD_NAMESPACE = "dashboard"


@dataclass(frozen=True)
class Route:
    url: str
    name: str
    namespace: str
    required: Role | None
    ours: bool  # a servicepulse view (not allauth's or Django's)
    csrf_exempt: bool = False


def _required_role(callback: Any) -> Role | None:
    role = getattr(callback, "required_role", None)
    view_class = getattr(callback, "view_class", None)
    if role is None and view_class is not None:
        role = getattr(view_class, "required_role", None)
    return Role(role) if role else None


def _walk(
    resolvers: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, URLPattern, str]]:
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + _pattern_text(entry), ns)
        else:
            yield prefix + _pattern_text(entry), entry, namespace


def _pattern_text(entry: URLPattern | URLResolver) -> str:
    pattern = entry.pattern
    route = getattr(pattern, "_route", None)
    if route is not None:
        return str(route)
    regex = pattern.regex.pattern  # type: ignore[union-attr]
    return regex.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\/", "/")


def _fill(template: str, values: dict[str, str]) -> str | None:
    """Replace path converters (<int:pk>) and named regex groups ((?P<x>...)) with real values."""

    def converter(match: re.Match[str]) -> str:
        kind, name = (match.group(1) or "str"), match.group(2)
        if name in values:
            return values[name]
        return {"int": "1", "uuid": "00000000-0000-0000-0000-000000000000"}.get(kind, "x")

    url = re.sub(r"<(?:(\w+):)?(\w+)>", converter, template)

    def group(match: re.Match[str]) -> str:
        name, body = match.group(1), match.group(2)
        if name in values:
            return values[name]
        first = body.split("|")[0]
        return first if re.fullmatch(r"[\w-]+", first) else "1"

    url = re.sub(r"\(\?P<(\w+)>([^)]*)\)", group, url)
    if re.search(r"[()\[\]\\*+?]", url):
        return None  # a regex we cannot fill; counted below so a rise in skipped routes is noticed
    return "/" + url


def param_values(world: dict[str, Any]) -> dict[str, str]:
    """Real values for path parameters, so detail pages are reached rather than 404."""
    service = world["services"][0]
    source = world["sources"][0]
    mention = world["mentions"][0]
    values = {
        "service_id": service.id,
        "slug": service.id,
        "source_name": source.name,
        "source_id": str(source.pk),
        "mention_id": str(mention.pk),
        "app_label": "auth",
    }
    values.update(world.get("extra_params", {}))
    return values


def project_routes(values: dict[str, str]) -> tuple[list[Route], list[str]]:
    routes, skipped = [], []
    for template, entry, namespace in _walk(get_resolver().url_patterns):
        url = _fill(template, values)
        if url is None:
            skipped.append(template)
            continue
        routes.append(
            Route(
                url=url,
                name=entry.name or "",
                namespace=namespace,
                required=_required_role(entry.callback),
                ours=entry.callback.__module__.startswith("servicepulse."),
                csrf_exempt=bool(getattr(entry.callback, "csrf_exempt", False)),
            )
        )
    return routes, skipped


def _is_public(route: Route) -> bool:
    if route.ours:
        return f"{route.namespace}:{route.name}" in PUBLIC_VIEWS
    return route.url.startswith(THIRD_PARTY_PREFIXES)


@pytest.fixture
def walk_world(world: dict[str, Any]) -> dict[str, Any]:
    """The dashboard world plus an incident, so the incident pages are reached."""
    from django.utils import timezone

    from servicepulse.incidents.services import incident_create

    incident = incident_create(
        service_id=world["services"][0].id, title="Walk incident", started_at=timezone.now()
    )
    world["extra_params"] = {"pk": str(incident.pk), "incident_id": str(incident.pk)}
    return world


def _dangling_references(html: str) -> list[str]:
    """Labels, aria-describedby and aria-labelledby that point at an id the page does not have (a help text
    a screen reader never reads: the field template once wrote `_help` where Django points at `_helptext`)."""
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    wanted = re.findall(r'\s(?:for|aria-describedby|aria-labelledby)="([^"]*)"', html)
    return sorted(
        {f"refers to missing id {ref!r}" for refs in wanted for ref in refs.split() if ref not in ids}
    )


@pytest.mark.django_db
def test_every_url_answers_each_role_correctly(
    walk_world: dict[str, Any], clients: dict[str, Client]
) -> None:
    routes, skipped = project_routes(param_values(walk_world))
    assert len(routes) > 20, "the walk found too few URL patterns"
    assert len(skipped) < 10, f"too many patterns could not be filled: {skipped}"
    problems: list[str] = []
    for route in routes:
        if route.required is None and not _is_public(route):
            problems.append(f"{route.url} ({route.namespace}:{route.name}): no role check, not public")
        if route.url in NOT_WALKED:
            continue
        for who, client in clients.items():
            response = client.get(route.url)
            status = response.status_code
            where = f"{who} GET {route.url} ({route.namespace}:{route.name}) -> {status}"
            if status >= 500 and not (route.url == "/health/" and status == 503):  # 503: no worker beating
                problems.append(f"{where}: server error")
                continue
            if who == "admin" and status == 200 and "html" in response.get("Content-Type", ""):
                problems += [f"{where}: {p}" for p in _dangling_references(response.content.decode())]
            if route.required is None:
                continue
            below = who == "anonymous" or RANK[Role(who)] < RANK[route.required]
            if status == 403 and not below:
                problems.append(f"{where}: refused a {who}, page needs only {route.required.label}")
            if not below and who != Role.VIEWER:
                continue
            # Asked by GET (unless POST-only) and by POST as someone who must be refused, and a viewer's POST
            # to a viewer page; no side effects when refused. The POST carries one unknown field, so a
            # `Form(request.POST or None)` is bound and a view that validates it for a viewer answers 400.
            reached = status != 404  # a detail page whose parameter matched no row is not checked further
            answers = [] if status == 405 else [(where, response)]
            post = client.post(route.url, {"walk": "1"})
            answers.append(
                (f"{who} POST {route.url} ({route.namespace}:{route.name}) -> {post.status_code}", post)
            )
            for where, response in answers:
                status = response.status_code
                if who == "anonymous":
                    if not (status == 302 and "/accounts/login/" in response["Location"]):
                        problems.append(f"{where}: expected a redirect to sign in")
                elif below:
                    if status != 403:
                        problems.append(f"{where}: expected 403 (needs {route.required.label})")
                elif (
                    reached
                    and response.request["REQUEST_METHOD"] == "POST"
                    and status not in (200, 403, 405)
                    and f"{route.namespace}:{route.name}" not in VIEWERS_OWN_WRITES
                ):
                    problems.append(f"{where}: a viewer's POST was acted on (writes need the Responder role)")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_only_the_listed_endpoints_skip_csrf(world: dict[str, Any]) -> None:
    routes, _ = project_routes(param_values(world))
    exempt = {f"{r.namespace}:{r.name}" for r in routes if r.csrf_exempt and r.ours}
    assert exempt == CSRF_EXEMPT_VIEWS
    assert not [r.url for r in routes if r.csrf_exempt and not r.ours], "a third-party view without CSRF"
    assert not exempt & {f"{r.namespace}:{r.name}" for r in routes if r.required is not None}


@pytest.mark.django_db
def test_walk_reaches_the_dashboard_pages(world: dict[str, Any]) -> None:
    routes, _ = project_routes(param_values(world))
    dashboard = {r.name: r for r in routes if r.namespace == DASHBOARD_NAMESPACE}
    for name in (
        "board",
        "service",
        "incidents",
        "incident",
        "mentions",
        "relabel",
        "catalog",
        "sources",
        "alerts",
    ):
        assert name in dashboard, name
    assert dashboard["catalog"].required == Role.ADMIN
    assert dashboard["relabel"].required == Role.RESPONDER
    assert dashboard["board"].required == Role.VIEWER
