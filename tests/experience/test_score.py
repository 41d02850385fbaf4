"""The experience score's arithmetic: value, interval, too few posts, trend only beyond noise, targets."""

from __future__ import annotations

import math
import random

import pytest

from servicepulse.experience.score import (
    MIN_POSTS,
    score_from_counts,
    score_from_observations,
    score_trend,
    target_status,
)


def test_value_is_percent_positive_minus_percent_negative() -> None:
    s = score_from_counts(positive=30, negative=10, neutral=60)
    assert s.n == 100
    assert s.value == pytest.approx(20.0)
    assert s.low is not None and s.high is not None
    assert s.low < 20 < s.high


def test_bounds_are_minus_and_plus_hundred() -> None:
    all_bad = score_from_counts(positive=0, negative=40, neutral=0)
    all_good = score_from_counts(positive=40, negative=0, neutral=0)
    assert all_bad.value == -100 and all_good.value == 100
    # The interval never leaves the scale, and has width even when every post agrees.
    assert all_bad.low == -100 and all_bad.high is not None and -100 < all_bad.high < -80
    assert all_good.high == 100 and all_good.low is not None and 80 < all_good.low < 100


def test_interval_narrows_with_more_posts() -> None:
    small = score_from_counts(positive=6, negative=3, neutral=11)
    large = score_from_counts(positive=600, negative=300, neutral=1100)
    assert small.value == pytest.approx(large.value)
    assert (small.high - small.low) > 5 * (large.high - large.low)  # type: ignore[operator]


def test_interval_matches_the_multinomial_standard_error_for_large_samples() -> None:
    s = score_from_counts(positive=400, negative=250, neutral=350)
    p, q = 0.4, 0.25
    se = ((p + q - (p - q) ** 2) / 1000) ** 0.5 * 100
    assert s.se == pytest.approx(se, rel=0.02)
    assert s.high - s.low == pytest.approx(2 * 1.96 * se, rel=0.03)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("n", "p_pos", "p_neg", "most"),
    [
        (12, 0.2, 0.5, 0.985),
        (30, 0.1, 0.7, 0.985),
        (60, 0.3, 0.3, 0.985),
        (10, 0.45, 0.45, 0.985),
        (25, 0.05, 0.05, 1),
    ],
)
def test_interval_covers_the_true_score_about_95_percent_of_the_time(
    n: int, p_pos: float, p_neg: float, most: float
) -> None:
    """Never much below 95 %; conservative only when nearly every post is neutral (last case)."""
    rng = random.Random(7)
    truth = 100 * (p_pos - p_neg)
    covered = 0
    trials = 2000
    for _ in range(trials):
        draws = [rng.random() for _ in range(n)]
        pos = sum(d < p_pos for d in draws)
        neg = sum(p_pos <= d < p_pos + p_neg for d in draws)
        s = score_from_counts(positive=pos, negative=neg, neutral=n - pos - neg)
        covered += s.low <= truth <= s.high  # type: ignore[operator]
    assert 0.92 <= covered / trials <= most


def test_too_few_posts_gives_no_score() -> None:
    s = score_from_counts(positive=5, negative=0, neutral=MIN_POSTS - 6)
    assert s.n == MIN_POSTS - 1
    assert s.too_few and s.value is None and s.low is None and s.high is None
    assert not score_from_counts(positive=5, negative=0, neutral=MIN_POSTS - 5).too_few
    assert score_from_counts(positive=0, negative=0, neutral=0).too_few


def test_spam_is_left_out_and_other_labels_count_as_neutral() -> None:
    obs = [("positive", False)] * 6 + [("negative", False)] * 2 + [("neutral", False)] * 4
    obs += [("positive", True)] * 50 + [("", False)] * 8  # 50 spam "praises", 8 unlabelled
    s = score_from_observations(obs)
    assert s.n == 20 and s.positive == 6 and s.negative == 2 and s.neutral == 12
    assert s.value == pytest.approx(20.0)


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        score_from_counts(positive=-1, negative=0, neutral=20)


def test_trend_only_beyond_noise() -> None:
    before = score_from_counts(positive=20, negative=20, neutral=60)  # 0
    slightly = score_from_counts(positive=24, negative=18, neutral=58)  # +6: within noise for n=100
    much = score_from_counts(positive=45, negative=10, neutral=45)  # +35
    worse = score_from_counts(positive=5, negative=50, neutral=45)  # -45
    assert score_trend(slightly, before) == ""
    assert score_trend(much, before) == "up"
    assert score_trend(worse, before) == "down"
    # The same +35 on a handful of posts each week is not beyond noise.
    small_before = score_from_counts(positive=2, negative=2, neutral=8)
    small_after = score_from_counts(positive=5, negative=1, neutral=6)
    assert score_trend(small_after, small_before) == ""


def test_no_trend_when_a_period_has_too_few_posts() -> None:
    many = score_from_counts(positive=80, negative=0, neutral=20)
    few = score_from_counts(positive=0, negative=5, neutral=0)
    assert score_trend(many, few) == ""
    assert score_trend(few, many) == ""
    assert score_trend(many, None) == ""


def test_target_status_uses_the_interval() -> None:
    s = score_from_counts(positive=300, negative=100, neutral=600)  # +20, interval about +/-4.5
    assert target_status(s, 10) == "above"
    assert target_status(s, 30) == "below"
    assert target_status(s, 21) == "near"
    assert target_status(s, None) == ""
    assert target_status(score_from_counts(positive=1, negative=0, neutral=0), 0) == ""


def test_an_arrow_needs_a_change_the_standard_tests_agree_is_beyond_noise() -> None:
    """Ten posts each week, from -10 (4 positive, 5 negative, 1 neutral) to +60 (8 positive, 2 negative).
    Worked by hand: the plain two-sample Wald test puts the noise at 1.96 * sqrt(0.089 + 0.064) = 76.7
    points, the pooled one at 1.96 * sqrt((0.95 - 0.25^2) * (1/10 + 1/10)) = 82.6, and Agresti-Caffo (one
    pseudo-post per category, 13 in all) at 1.96 * sqrt(142/2197 + 120/2197) = 67.7 against an adjusted change
    of 100 * 7/13 = 53.8. None finds the change beyond noise. The score drew "up" here: it measured the plain
    +70 against the adjusted (shrunk) noise."""
    before = score_from_counts(positive=4, negative=5, neutral=1)
    after = score_from_counts(positive=8, negative=2, neutral=0)
    assert (before.value, after.value) == (pytest.approx(-10.0), pytest.approx(60.0))
    assert score_trend(after, before) == ""
    assert score_trend(before, after) == ""


def _multinomial(n: int, p_pos: float, p_neg: float) -> list[tuple[float, int, int, int]]:
    """Every (probability, positive, negative, neutral) outcome of n posts: the exact distribution."""
    out = []
    p_neu = 1 - p_pos - p_neg
    for pos in range(n + 1):
        for neg in range(n + 1 - pos):
            neu = n - pos - neg
            ways = math.factorial(n) // (math.factorial(pos) * math.factorial(neg) * math.factorial(neu))
            out.append((ways * p_pos**pos * p_neg**neg * p_neu**neu, pos, neg, neu))
    return out


@pytest.mark.parametrize(
    ("n0", "n1", "p_pos", "p_neg"), [(10, 10, 0.5, 0.4), (10, 10, 0.4, 0.5), (10, 40, 0.5, 0.5)]
)
def test_an_arrow_when_nothing_changed_is_rare(n0: int, n1: int, p_pos: float, p_neg: float) -> None:
    """Two weeks drawn from the same shares: a 95 % test may draw an arrow about 5 % of the time, not 12 %
    (what the score did at these shares: it compared the plain change with the adjusted noise)."""
    week0, week1 = _multinomial(n0, p_pos, p_neg), _multinomial(n1, p_pos, p_neg)
    estimates0 = [(w, score_from_counts(positive=a, negative=b, neutral=c)) for w, a, b, c in week0]
    estimates1 = [(w, score_from_counts(positive=a, negative=b, neutral=c)) for w, a, b, c in week1]
    arrows = sum(w0 * w1 for w0, s0 in estimates0 for w1, s1 in estimates1 if score_trend(s1, s0))
    assert arrows <= 0.065
