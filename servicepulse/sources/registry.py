"""The connector registry. Each connector is a package in `servicepulse/sources/connectors/` whose
`__init__.py` defines a `Connector` subclass decorated with `@register`. Discovery imports every package
there, so adding a connector touches nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from servicepulse.core.fetcher import bounded_wait
from servicepulse.core.http import safe_url

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from servicepulse.mentions.models import Mention
    from servicepulse.sources.models import Source


class ConnectorError(Exception):
    """A platform refused or failed a request; the message is the platform's own error where it gave one."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, result: PullResult | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = bounded_wait(retry_after)  # at most a day, whatever the platform asked
        # What a pull stored before it failed (it stays stored), so callers can report it.
        self.result = result


class CannotReply(ConnectorError):
    """This channel has no way to answer a post (an RSS feed, a file import)."""


class OutcomeUnknown(ConnectorError):
    """A request that creates something was sent but no answer came back (a timeout, a dropped connection):
    the platform may have carried it out. Sending it again blindly could post it twice; see `SendKey`."""


class PayloadError(ValueError):
    """A platform payload that cannot become a mention; the message is the reason kept in quarantine."""


@dataclass(frozen=True)
class Rejected:
    """A payload that did not parse: quarantined with its reason while the rest of the batch is stored."""

    raw: str | bytes
    reason: str
    position: str = ""


class OptionType(StrEnum):
    """What an option's value must be; checked when a source is created or its options change."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    URL = "url"  # an http(s) address servicepulse requests: the fetcher's address rules apply
    WEBSOCKET_URL = "websocket url"  # ws(s), or http(s) for the same host, likewise checked


@dataclass(frozen=True)
class OptionSpec:
    name: str
    help: str
    required: bool = False
    secret: bool = False
    default: Any = None
    type: OptionType = OptionType.TEXT
    minimum: float | None = None  # for INTEGER and NUMBER
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    multiline: bool = False  # one value per line (a form shows a text area)


POLL_SECONDS_RANGE = (10, 7 * 24 * 3600)  # scheduled pulls: at most every 10 s, at least once a week


def poll_seconds_option(help: str) -> OptionSpec:
    """The `poll_seconds` option every pulled connector offers (overrides the class's `poll_seconds`)."""
    low, high = POLL_SECONDS_RANGE
    return OptionSpec("poll_seconds", help, type=OptionType.INTEGER, minimum=low, maximum=high)


@dataclass
class PullResult:
    created: int = 0
    duplicates: int = 0
    quarantined: int = 0
    # Valid items with nothing to read (an image-only post without alt text, a sticker comment): neither
    # stored nor quarantined, but counted, so a pull never drops posts without saying so.
    skipped: int = 0
    mention_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ReplyResult:
    external_id: str
    url: str = ""  # the platform's link to the reply; anything but an http(s) address is dropped

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", safe_url(self.url))


@dataclass(frozen=True)
class SendKey:
    """Names one reply or post across every try of it, so a try after a timeout does not post it twice.

    `name` comes from our own row ("servicepulse-loop-42"), never from the text; `first_try` is when the row was
    first sent (the time in a Bluesky record key); `retry` says an earlier try of it was made, whose post may
    exist. Mastodon sends `name` as its Idempotency-Key; Bluesky makes its record key (a TID) from `name` and
    `first_try`; X, which has neither, looks for the post on the account before a retry."""

    name: str
    first_try: datetime
    retry: bool = False


class Connector(ABC):
    """What every connector offers. Subclasses set the class attributes and override what they support."""

    kind: ClassVar[str]
    description: ClassVar[str]
    options: ClassVar[tuple[OptionSpec, ...]] = ()
    can_pull: ClassVar[bool] = True
    can_stream: ClassVar[bool] = False
    can_reply: ClassVar[bool] = False
    # A reply's `SendKey` names it on the platform (an idempotency key, a record key, or a look-up before a
    # retry), so a try after no answer cannot post it twice.
    reply_keyed: ClassVar[bool] = False
    # The options a reply needs: any one of these sets, all of it set (e.g. a token, or four OAuth 1.0a keys).
    reply_needs: ClassVar[tuple[tuple[str, ...], ...]] = ()
    poll_seconds: ClassVar[int] = 300  # time between scheduled pulls; a `poll_seconds` option overrides it
    can_receive: ClassVar[bool] = False  # True when the platform pushes to /sources/hooks/<source name>/
    # The secrets a webhook delivery is checked with: until they are all set every delivery is refused, which
    # the source's page says beside the webhook address (the platform's own error does not say why).
    webhook_secrets: ClassVar[tuple[str, ...]] = ()

    def __init__(self, source: Source) -> None:
        self.source = source

    def option(self, name: str) -> Any:
        """An option or secret of this source, else the spec's default."""
        if name in self.source.options:
            return self.source.options[name]
        secrets = self.source.secrets if self.source.secrets_encrypted else {}
        if name in secrets:
            return secrets[name]
        for spec in self.options:
            if spec.name == name:
                return spec.default
        raise KeyError(f"{self.kind} has no option {name!r}")

    def streaming_enabled(self) -> bool:
        """True when this source is consumed by `servicepulse stream` rather than by scheduled pulls."""
        return self.can_stream

    def check_options(self) -> None:
        """Raise ConnectorError when options that are each valid can never work together (nothing to follow,
        say). Called before a source is saved; each option's own type and range are checked from its spec."""
        return None

    def pull(self) -> PullResult:
        """Fetch what is new since the source's cursor and store it through `mentions_ingest`."""
        raise ConnectorError(f"{self.kind} sources are not pulled")

    def stream(self, *, stop: Any = None) -> None:
        """Consume a live stream until `stop` (a threading.Event) is set; reconnect on failure."""
        raise ConnectorError(f"{self.kind} sources do not stream")

    def reply_unavailable(self) -> str:
        """Why this source cannot post a reply now, or "" when it can: the channel never can, the source
        lacks the credentials a reply needs, or it holds the demo's generated posts."""
        if not self.can_reply:
            return f"{self.source.get_kind_display()} has no way to post a reply"
        if self.source.is_demo:
            return "this demo source holds generated posts, so replies are not posted anywhere"
        if self.reply_needs and not any(all(self.option(n) for n in names) for names in self.reply_needs):
            needed = " or ".join(" and ".join(names) for names in self.reply_needs)
            return (
                f"this {self.source.get_kind_display()} source has no {needed} set, so it cannot post replies"
            )
        return ""

    def reply(self, *, mention: Mention, text: str, key: SendKey | None = None) -> ReplyResult:
        """Answer `mention` on its own channel. `key` (where the platform can use it) keeps a try after a timeout
        from posting the reply twice; OutcomeUnknown when no answer came and it may have been posted."""
        raise CannotReply(f"{self.kind} sources cannot reply: answer the person another way")

    def receive(self, request: HttpRequest) -> HttpResponse:
        """Handle one webhook delivery (see `servicepulse.sources.webhooks`). Only when `can_receive`."""
        raise ConnectorError(f"{self.kind} sources do not receive webhooks")


_REGISTRY: dict[str, type[Connector]] = {}
_DISCOVERED = False


def register(cls: type[Connector]) -> type[Connector]:
    if cls.kind in _REGISTRY and _REGISTRY[cls.kind] is not cls:
        raise RuntimeError(f"two connectors claim the kind {cls.kind!r}")
    _REGISTRY[cls.kind] = cls
    return cls


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    from servicepulse.sources import connectors

    for info in pkgutil.iter_modules(connectors.__path__):
        importlib.import_module(f"{connectors.__name__}.{info.name}")
    _DISCOVERED = True


def connector_classes() -> dict[str, type[Connector]]:
    _discover()
    return dict(sorted(_REGISTRY.items()))


def get_connector_class(kind: str) -> type[Connector]:
    classes = connector_classes()
    try:
        return classes[kind]
    except KeyError:
        raise ConnectorError(f"unknown source kind {kind!r}; known kinds: {', '.join(classes)}") from None


def connector_for(source: Source) -> Connector:
    return get_connector_class(source.kind)(source)
