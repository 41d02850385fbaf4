"""Reading sources and their health, for the CLI (`servicepulse sources list`) and the sources page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from servicepulse.sources.models import Source, SourceKind
from servicepulse.sources.registry import OptionSpec, connector_classes


class Health:
    OK = "ok"
    FAILING = "failing"
    NEVER = "never synced"
    DISABLED = "disabled"
    PUSHED = "receives"  # webhook/import sources that are not pulled


@dataclass(frozen=True)
class SourceHealth:
    id: int
    name: str
    kind: str
    kind_label: str
    enabled: bool
    status: str
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    next_try_at: datetime | None
    consecutive_failures: int
    mentions: int
    quarantined: int
    can_pull: bool
    can_stream: bool
    can_reply: bool
    demo: bool = False  # loaded by `servicepulse demo`: generated posts, nothing to pull, kept disabled


@dataclass(frozen=True)
class KindInfo:
    kind: str
    description: str
    options: tuple[OptionSpec, ...]
    can_pull: bool
    can_stream: bool
    can_reply: bool


def source_kinds() -> list[KindInfo]:
    """Every registered connector kind, sorted by kind."""
    return [
        KindInfo(
            kind=kind,
            description=cls.description,
            options=tuple(cls.options),
            can_pull=cls.can_pull,
            can_stream=cls.can_stream,
            can_reply=cls.can_reply,
        )
        for kind, cls in connector_classes().items()
    ]


def _status(source: Any, *, can_pull: bool, can_stream: bool) -> str:
    if not source.enabled:
        return Health.DISABLED
    if source.last_error_at is not None and (
        source.last_success_at is None or source.last_error_at >= source.last_success_at
    ):
        return Health.FAILING
    if source.last_success_at is None:
        return Health.NEVER if (can_pull or can_stream) else Health.PUSHED
    return Health.OK


def source_list_with_health() -> list[SourceHealth]:
    """Every source with its health and counts, in two queries whatever the number of sources."""
    from servicepulse.mentions.models import Mention, Quarantine

    mention_counts = (
        Mention.objects.filter(source=OuterRef("pk"))
        .order_by()
        .values("source")
        .annotate(n=Count("id"))
        .values("n")
    )
    quarantine_counts = (
        Quarantine.objects.filter(source=OuterRef("pk"))
        .order_by()
        .values("source")
        .annotate(n=Count("id"))
        .values("n")
    )
    classes = connector_classes()
    rows = Source.objects.annotate(
        mention_count=Coalesce(Subquery(mention_counts), 0),
        quarantine_count=Coalesce(Subquery(quarantine_counts), 0),
    ).order_by("name")
    result: list[SourceHealth] = []
    labels = dict(Source._meta.get_field("kind").choices or [])
    for source in rows:
        cls = classes.get(source.kind)
        can_pull = bool(cls and cls.can_pull)
        can_stream = bool(cls and cls.can_stream)
        result.append(
            SourceHealth(
                id=source.pk,
                name=source.name,
                kind=source.kind,
                kind_label=str(labels.get(source.kind, source.kind)),
                enabled=source.enabled,
                status=_status(source, can_pull=can_pull, can_stream=can_stream),
                last_success_at=source.last_success_at,
                last_error=source.last_error,
                last_error_at=source.last_error_at,
                next_try_at=source.next_try_at,
                consecutive_failures=source.consecutive_failures,
                mentions=source.mention_count,
                quarantined=source.quarantine_count,
                can_pull=can_pull,
                can_stream=can_stream,
                can_reply=bool(cls and cls.can_reply),
                demo=source.is_demo,
            )
        )
    return result


def source_get(*, name: str) -> Source | None:
    return Source.objects.filter(name=name).first()


def source_health(*, name: str) -> SourceHealth | None:
    for row in source_list_with_health():
        if row.name == name:
            return row
    return None


def source_public_options(*, source: Source) -> dict[str, Any]:
    """The source's options for display: secrets shown only as set/unset, never their values."""
    cls = connector_classes().get(source.kind)
    shown: dict[str, Any] = dict(source.options or {})
    if cls is not None and source.secrets_encrypted:
        for spec in cls.options:
            if spec.secret:
                shown[spec.name] = "(set)" if spec.name in source.secrets else "(not set)"
    return shown


@dataclass(frozen=True)
class SourceConnection:
    """What to paste where so a platform (or a web page) reaches a source that is pushed to."""

    webhook_url: str = ""  # the address to give the platform's webhook or Events API settings
    embed_url: str = ""  # the widget's script
    embed_snippet: str = ""  # the HTML to put on the page that shows the widget
    form_language: str = ""  # the language the widget's form speaks, named for the admin
    # The webhook's secrets (by option name) not set yet: until they are, every delivery is refused.
    missing_secrets: tuple[str, ...] = ()


def source_connection(*, source: Source) -> SourceConnection:
    """The addresses of a webhook or widget source, absolute under BASE_URL; empty for other kinds."""
    from django.conf import settings
    from django.urls import reverse

    cls = connector_classes().get(source.kind)
    base = str(settings.BASE_URL).rstrip("/")
    if source.kind == SourceKind.WIDGET:
        from servicepulse.sources.connectors.widget.wording import form_language, html_lang

        language = form_language(source.options.get("language"))
        url = base + reverse("sources:widget-embed", args=[source.name])
        snippet = (
            f'<div id="servicepulse-report" lang="{html_lang(language)}"></div>\n'
            f'<script src="{url}" async></script>'
        )
        return SourceConnection(embed_url=url, embed_snippet=snippet, form_language=language.label)
    if cls is not None and cls.can_receive:
        stored = source.secrets if source.secrets_encrypted else {}
        missing = tuple(name for name in cls.webhook_secrets if not stored.get(name))
        return SourceConnection(
            webhook_url=base + reverse("sources:webhook", args=[source.name]), missing_secrets=missing
        )
    return SourceConnection()
