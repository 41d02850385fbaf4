"""The experience score: % positive minus % negative of a service's non-spam mentions, from -100 to +100.

Like HappySignals' Happiness score, but from what people say rather than from surveys. Pure functions over
counts, so the arithmetic is tested on its own and the database layer (`selectors`) only counts. A post
counts once, for the service it is most about (the analysis's first service tag); spam never counts.

Confidence interval
-------------------
With n non-spam mentions of which a fraction p+ is positive and p- negative, the score is
d = p+ - p- (times 100). Positive, neutral and negative are one multinomial draw, so

    Var(d) = (p+ + p- - d^2) / n.

The plain (Wald) interval d ± z·sqrt(Var) is too narrow for the small samples a campus week gives (and has
zero width when every post is negative). We use the Agresti-Caffo idea for differences of proportions: add
one pseudo-observation to each of the three categories (n + 3 in all) and build the Wald interval around
the adjusted estimate, clipped to [-100, 100]. The point estimate shown is the plain one (it always lies
inside the interval). Computed exactly over the multinomial, the 95 % interval covers the true score about
95.5 % of the time on average and at least 93 % for nineteen true scores in twenty from n = 10 up; like every
adjusted Wald interval it dips at a few unlucky combinations of n and true shares (to about 89 % at n = 10,
92 % at n = 30, 93 % from n = 50). It is conservative (up to 99 %) only when nearly every post is neutral.
Seeded simulations in tests/experience/test_score.py keep it there.

Too few posts
-------------
Below `MIN_POSTS` (10) non-spam mentions in a period the score is not shown ("too few posts"): with nine
posts its 95 % interval can be ±54 points wide, which says nothing a leader can act on.

Trend
-----
An arrow only when the change between two periods is beyond noise, and neither period has too few posts.
The two periods are independent samples, so the test is the Agresti-Caffo one for a difference of two
adjusted estimates: |c1 - c0| > z·sqrt(se1^2 + se0^2), where c is the adjusted estimate the interval is
built around and se its standard error. Both must be the adjusted ones: the plain change measured against the
adjusted (shrunk, divided by n + 3) standard errors drew an arrow for up to 12 % of pairs of ten-post weeks
in which nothing had changed, against the 5 % a 95 % test promises; this test stays at or below about 6 %.
An arrow also needs the plain scores shown to have moved the same way, so it never contradicts them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

MIN_POSTS = 10
Z95 = 1.959964


class Trend:
    UP = "up"
    DOWN = "down"
    FLAT = ""  # no arrow: the change is within noise, or a period has too few posts


@dataclass(frozen=True)
class ScoreEstimate:
    """A score with its 95 % interval. `value`, `low` and `high` are None when there are too few posts."""

    n: int
    positive: int
    negative: int
    neutral: int
    value: float | None
    low: float | None
    high: float | None
    se: float | None  # standard error of `centre`, in score points
    centre: float | None = None  # the adjusted estimate the interval is built around, in score points

    @property
    def too_few(self) -> bool:
        return self.value is None


def score_from_counts(
    *, positive: int, negative: int, neutral: int, min_posts: int = MIN_POSTS, z: float = Z95
) -> ScoreEstimate:
    """The score and its interval from counts of positive, negative and neutral (non-spam) mentions."""
    if min(positive, negative, neutral) < 0:
        raise ValueError("counts cannot be negative")
    n = positive + negative + neutral
    if n < max(min_posts, 1):
        return ScoreEstimate(n, positive, negative, neutral, None, None, None, None)
    value = 100.0 * (positive - negative) / n
    m = n + 3
    pos, neg = (positive + 1) / m, (negative + 1) / m
    centre = pos - neg
    se = math.sqrt(max(pos + neg - centre * centre, 0.0) / m)
    low = max(-100.0, 100.0 * (centre - z * se))
    high = min(100.0, 100.0 * (centre + z * se))
    return ScoreEstimate(n, positive, negative, neutral, value, low, high, 100.0 * se, 100.0 * centre)


def score_from_observations(
    observations: Iterable[tuple[str, bool]], *, min_posts: int = MIN_POSTS, z: float = Z95
) -> ScoreEstimate:
    """The score from (sentiment, is_spam) pairs; sentiment is "positive", "negative" or anything else
    (neutral). Spam is left out."""
    positive = negative = neutral = 0
    for sentiment, spam in observations:
        if spam:
            continue
        if sentiment == "positive":
            positive += 1
        elif sentiment == "negative":
            negative += 1
        else:
            neutral += 1
    return score_from_counts(positive=positive, negative=negative, neutral=neutral, min_posts=min_posts, z=z)


def score_trend(current: ScoreEstimate, previous: ScoreEstimate | None, *, z: float = Z95) -> str:
    """ "up" or "down" when the change from `previous` is beyond noise, else "" (no arrow)."""
    if previous is None or current.too_few or previous.too_few:
        return Trend.FLAT
    assert current.value is not None and previous.value is not None  # not too few
    assert current.centre is not None and previous.centre is not None
    assert current.se is not None and previous.se is not None
    change = current.centre - previous.centre
    noise = z * math.sqrt(current.se**2 + previous.se**2)
    if abs(change) <= noise:
        return Trend.FLAT
    shown = current.value - previous.value
    if change > 0 and shown > 0:
        return Trend.UP
    if change < 0 and shown < 0:
        return Trend.DOWN
    return Trend.FLAT  # the adjusted and the shown scores disagree on the direction: no arrow


def target_status(estimate: ScoreEstimate, target: int | None) -> str:
    """ "above" / "below" when the whole interval is on one side of the target, "near" when it straddles it,
    "" without a target or with too few posts."""
    if target is None or estimate.too_few:
        return ""
    assert estimate.low is not None and estimate.high is not None
    if estimate.low >= target:
        return "above"
    if estimate.high < target:
        return "below"
    return "near"


@dataclass(frozen=True)
class ServiceScore:
    """A service's score for one period, as pages, charts and the report show it."""

    service_id: str
    start: datetime
    end: datetime
    estimate: ScoreEstimate
    trend: str = Trend.FLAT
    target: int | None = None

    # The fields the dashboard reads (value, low, high, n, too_few, trend, target, meets_target).
    @property
    def value(self) -> float | None:
        return self.estimate.value

    @property
    def low(self) -> float | None:
        return self.estimate.low

    @property
    def high(self) -> float | None:
        return self.estimate.high

    @property
    def n(self) -> int:
        return self.estimate.n

    @property
    def too_few(self) -> bool:
        return self.estimate.too_few

    @property
    def meets_target(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target

    @property
    def target_status(self) -> str:
        return target_status(self.estimate, self.target)
