"""Reads over analysis results: what other apps (incidents, experience, dashboard, engage) ask of it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf.locale import LANG_INFO
from django.core.cache import cache
from django.db.models import Count, Min, Prefetch, Q, QuerySet

from servicepulse.analysis.models import Correction, MentionAnalysis, Sentiment, ServiceTag
from servicepulse.mentions.models import Mention
from servicepulse.sources.models import Audience

if TYPE_CHECKING:
    from servicepulse.catalog.models import Service

SENTIMENT_VALUE = {Sentiment.NEGATIVE: -1.0, Sentiment.NEUTRAL: 0.0, Sentiment.POSITIVE: 1.0}


@dataclass(frozen=True)
class AnalysedPost:
    mention_id: int
    created_at: datetime
    author_key: str
    author: str
    text: str
    service_ids: tuple[str, ...]
    complaint: bool
    sentiment: float  # -1 negative, 0 neutral, 1 positive
    spam: bool


def analysed_posts(
    *,
    since: datetime,
    until: datetime,
    service_ids: list[str] | None = None,
    include_spam: bool = False,
    complaints_only: bool = False,
) -> Iterator[AnalysedPost]:
    """Analysed posts created in [since, until), oldest first, with their services best first; only the
    complaints with `complaints_only` (a fortnight of every service's posts is many more)."""
    qs = (
        MentionAnalysis.objects.filter(created_at__gte=since, created_at__lt=until)
        .select_related("mention")
        .prefetch_related(Prefetch("tags", queryset=ServiceTag.objects.order_by("rank")))
        .order_by("created_at", "mention_id")
    )
    if not include_spam:
        qs = qs.filter(spam=False)
    if complaints_only:
        qs = qs.filter(complaint=True)
    if service_ids is not None:
        qs = qs.filter(tags__service_id__in=service_ids).distinct()
    for analysis in qs.iterator(chunk_size=1000):
        mention = analysis.mention
        yield AnalysedPost(
            mention_id=mention.pk,
            created_at=mention.created_at,
            author_key=mention.author_key,
            author=mention.author,
            text=mention.text,
            service_ids=tuple(tag.service_id for tag in analysis.tags.all()),
            complaint=analysis.complaint,
            sentiment=SENTIMENT_VALUE.get(analysis.sentiment, 0.0),  # type: ignore[call-overload]
            spam=analysis.spam,
        )


def only_agrees(text: str) -> bool:
    """Whether a post only agrees with the one it answers ("same here", "+1", "it's not just you", "omg I
    thought it was just me"): `mentions_analyze` counts such a reply under a complaint as its author's
    complaint, yet it says nothing of what is wrong."""
    # Imported here: the pipeline's package brings numpy and the models' code, which reading results does not.
    from servicepulse.analysis.ml.normalise import normalise
    from servicepulse.analysis.ml.replies import is_me_too

    return is_me_too(normalise(text))


def mention_filter(
    qs: QuerySet[Mention],
    *,
    service_id: str | None = None,
    sentiment: str | None = None,
    complaint: bool | None = None,
    spam: bool | None = None,
    language: str | None = None,
) -> QuerySet[Mention]:
    """Narrow a mention queryset by analysis labels. `language` is a primary language subtag ("cy"): it also
    takes the regional codes platforms send ("en-GB", "zh-Hant")."""
    if service_id:
        qs = qs.filter(analysis__tags__service_id=service_id)
    if language:
        qs = qs.filter(
            Q(analysis__language__iexact=language) | Q(analysis__language__istartswith=f"{language}-")
        )
    if sentiment:
        qs = qs.filter(analysis__sentiment=sentiment)
    if complaint is not None:
        qs = qs.filter(analysis__complaint=complaint)
    if spam is not None:
        qs = qs.filter(analysis__spam=spam)
    return qs


LANGUAGES_CACHE_SECONDS = 600
# Languages whose complaint and sentiment readings are the models' own: English, and posts with no words
# (MODELS.md, "Posts in other languages").
MODEL_LANGUAGES = frozenset({"", "en", "und"})
# Languages the detector gives that Django's LANG_INFO does not name (it has only zh-hans and zh-hant).
_MORE_LANGUAGE_NAMES = {
    "zh": "Chinese", "am": "Amharic", "gu": "Gujarati", "ha": "Hausa", "jv": "Javanese", "ku": "Kurdish",
    "la": "Latin", "mt": "Maltese", "ps": "Pashto", "si": "Sinhala", "so": "Somali", "tl": "Tagalog",
    "yo": "Yoruba", "zu": "Zulu", "xh": "Xhosa", "fo": "Faroese", "oc": "Occitan", "ht": "Haitian Creole",
}  # fmt: skip


def language_primary(code: str) -> str:
    """A language code's primary subtag, lower case: platforms send regional codes ("en-GB", "zh_Hant")."""
    return code.split("-")[0].split("_")[0].lower()


def language_name(code: str) -> str | None:
    """The English name of a primary language subtag ("cy": "Welsh"); None for one nobody here names."""
    return LANG_INFO.get(code, {}).get("name") or _MORE_LANGUAGE_NAMES.get(code)


def analysis_languages() -> list[tuple[str, int]]:
    """The languages posts were read in, as (primary subtag, number of posts), commonest first; platforms'
    regional codes ("en-GB") count under their language. Cached for ten minutes: it reads every analysis."""
    cached = cache.get("analysis:languages")
    if cached is not None:
        return list(cached)
    counts: dict[str, int] = {}
    rows = MentionAnalysis.objects.exclude(language="").values("language").annotate(n=Count("pk"))
    for row in rows.order_by():
        code = language_primary(str(row["language"]))
        counts[code] = counts.get(code, 0) + int(row["n"])
    languages = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if languages:  # a new organisation's first posts show up at once, not ten minutes later
        cache.set("analysis:languages", languages, LANGUAGES_CACHE_SECONDS)
    return languages


def analysis_for_mentions(*, mention_ids: list[int]) -> dict[int, MentionAnalysis]:
    """Analyses by mention id, with their tags loaded (one query each)."""
    return {
        a.mention_id: a
        for a in MentionAnalysis.objects.filter(mention_id__in=mention_ids).prefetch_related(
            Prefetch("tags", queryset=ServiceTag.objects.select_related("service").order_by("rank"))
        )
    }


def corrections_latest(*, mention_ids: list[int]) -> dict[int, dict[str, Correction]]:
    """The correction in force for each corrected field of these mentions (the latest not reverted: it is the
    one the labels show), with who made it: {mention id: {field: correction}}. One query."""
    latest: dict[int, dict[str, Correction]] = {}
    rows = (
        Correction.objects.filter(mention_id__in=mention_ids, reverted_at__isnull=True)
        .select_related("user")
        .order_by("created_at", "id")
    )
    for correction in rows:
        latest.setdefault(correction.mention_id, {})[correction.field] = correction
    return latest


def corrections_reverted(*, mention_ids: list[int]) -> dict[int, dict[str, Correction]]:
    """For each field of these mentions that was corrected and then put back to the models' reading (and
    not corrected since), the last correction put back, with who made it and who put it back (`reverted_by`,
    `reverted_at`): {mention id: {field: correction}}. One query."""
    latest: dict[int, dict[str, Correction]] = {}
    rows = (
        Correction.objects.filter(mention_id__in=mention_ids)
        .select_related("user", "reverted_by")
        .order_by("created_at", "id")
    )
    for correction in rows:
        latest.setdefault(correction.mention_id, {})[correction.field] = correction
    # A revert marks every correction of the field then in force, so the latest one is reverted exactly when
    # the field is back to the models' reading.
    return {
        mention_id: reverted
        for mention_id, fields in latest.items()
        if (reverted := {f: c for f, c in fields.items() if c.reverted_at is not None})
    }


def mentions_for_service(*, service_id: str) -> QuerySet[Mention]:
    """Mentions tagged to a service, newest first."""
    return (
        Mention.objects.filter(analysis__tags__service_id=service_id)
        .select_related("source", "analysis")
        .order_by("-created_at", "-id")
    )


def wants_response_q() -> Q:
    """Mentions that want a response: complaints and questions (not spam); unanalysed ones count until read.
    Peers' posts never do: they are never analysed, so "until read" would be for ever."""
    return Q(source__audience=Audience.USERS) & (
        Q(analysis__isnull=True)
        | (Q(analysis__spam=False) & (Q(analysis__complaint=True) | Q(text__contains="?")))
    )


def mentions_unanalysed(*, older_than: datetime | None = None, limit: int = 1000) -> list[int]:
    """Ids of mentions the models have not read yet (for the sweeper that re-queues lost work): those with no
    analysis row, and those whose row holds only an analyst's correction. `correction_create` makes the row
    when a post is corrected before its analysis ran, with no model output (`analyses_save` always stores
    one); were it taken for an analysis, a post whose task was lost would never be read by the models.
    Peers' posts are left out: they are never analysed (`mentions_analyze`), so they would be swept for ever,
    and crowd lost users' posts out of the sweep's `limit`."""
    qs = Mention.objects.filter(
        Q(analysis__isnull=True) | Q(analysis__model_output={}), source__audience=Audience.USERS
    )
    if older_than is not None:
        qs = qs.filter(received_at__lt=older_than)
    return list(qs.order_by("id").values_list("id", flat=True)[:limit])


def first_tagged_at(*, service_ids: list[str]) -> dict[str, datetime]:
    """When the oldest non-spam post tagged to each service was written (services without one are left
    out): where a service's history starts when its posts go back before it entered the catalogue."""
    return dict(
        ServiceTag.objects.filter(service_id__in=service_ids, spam=False)
        .values("service_id")
        .annotate(first=Min("created_at"))
        .values_list("service_id", "first")
    )


def history_started(*, services: Iterable[Service]) -> dict[str, datetime]:
    """Where each service's history starts: when it entered the catalogue, or its oldest post when that is
    older (posts imported from before it was added). One query for all of them."""
    services = list(services)
    first_posts = first_tagged_at(service_ids=[s.id for s in services])
    return {s.id: min(s.created_at, first_posts.get(s.id, s.created_at)) for s in services}
