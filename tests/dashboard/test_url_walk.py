"""Walk every URL pattern of the project as anonymous and as each role, and check the answer.

- A view that states a role (`servicepulse.accounts.roles`) sends anonymous people to sign in, answers 403 to
  anyone below the role, and lets the role and above in. A POST-only view (405 to GET) is asked again by POST
  (empty body) by those who must be refused.
- A view that states no role is public: it must be one of the known public areas (status page, blog, health,
  sign-in, webhooks, the widget, admin's own login) — a signed-in page that forgot its role check fails here.
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

# Areas anyone may open without signing in. Anything else answering 200 to an anonymous visitor is a bug.
PUBLIC_PREFIXES = (
    "/status/",
    "/blog/",
    "/health/",
    "/accounts/",
    "/admin/",  # Django admin has its own staff login
    "/sources/hooks/",
    "/sources/widget/",
    "/xmlrpc/",
    "/webmention/",
    "/trackback/",
    "/static/",
    "/publish/feed",
    "/widget/",
)
DASHBOARD_NAMESPACE = "dashboard"


@dataclass(frozen=True)
class Route:
    url: str
    name: str
    namespace: str
    required: Role | None


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
                url=url, name=entry.name or "", namespace=namespace, required=_required_role(entry.callback)
            )
        )
    return routes, skipped


def _is_public(url: str) -> bool:
    return url.startswith(PUBLIC_PREFIXES)


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
        if route.namespace == DASHBOARD_NAMESPACE and route.required is None:
            problems.append(f"{route.url}: a signed-in page without a role check")
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
                if who == "anonymous" and status == 200 and not _is_public(route.url):
                    problems.append(f"{where}: open to anyone but not a public page")
                continue
            below = who == "anonymous" or RANK[Role(who)] < RANK[route.required]
            if status == 405 and below:
                # POST-only: ask by POST (empty body) as someone who must be refused; no side effects if so.
                response = client.post(route.url)
                status = response.status_code
                where = f"{who} POST {route.url} ({route.namespace}:{route.name}) -> {status}"
            if who == "anonymous":
                if not (status == 302 and "/accounts/login/" in response["Location"]):
                    problems.append(f"{where}: expected a redirect to sign in")
            elif RANK[Role(who)] < RANK[route.required]:
                if status != 403:
                    problems.append(f"{where}: expected 403 (needs {route.required.label})")
            elif status == 403:
                problems.append(f"{where}: refused a {who}, page needs only {route.required.label}")
    assert not problems, "\n".join(problems)


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
