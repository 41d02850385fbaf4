"""Streaming incident detector for per-bucket complaint counts.

Fed one bucket at a time, the detector decides from what it has seen so far (causal) and keeps:

* a multiplicative **baseline** ``level x hour-of-day profile x day-of-week factor x calendar factor``,
  learnt with exponentially weighted averages whose half-lives are in *time* (hours, days), so one
  configuration serves 5-minute and 15-minute buckets alike. What enters the baseline is winsorised at a
  few standard deviations, so a burst of complaints does not become "normal";
* the **evidence** at three time scales, the latest bucket, the last hour and the last six hours (a
  spike, a burst, a sustained rise of level that no single hour shows): the sum of the counts over
  the window against the sum of the baseline's one-step-ahead predictions for the same buckets, scored as
  the upper-tail surprise ``-log10 P(X >= x)`` of a negative binomial whose dispersion is learnt online per
  scale (bursty chatter is over-dispersed; sparse campus complaints are nearly Poisson, the
  ``dispersion = 0`` case). The tail is summed exactly for counts up to 60 and taken from the
  signed-root deviance above that;
* a **self-calibrated threshold** per scale: its fixed threshold (1e-6 for the hour and the six hours,
  stricter for a single bucket), raised to a multiple of what an ordinary day's largest surprise
  reaches on this series (the upper quartile of the last two weeks' daily maxima). A chatty, spiky
  series has to do much more than usual to raise an incident; a quiet one only has to leave its
  Poisson noise far behind. A single bucket must moreover reach a fraction of the largest
  single-bucket surprise of those two weeks: a series whose chatter comes in bursts (a retweet storm,
  a bot) has shown how heavy its tail is, and its next, smaller blip is no incident. Sustained rises
  (the hour, the six hours) are not held to this, so an outage that recurs days after the last one is
  confirmed as fast as the first. ``score`` is the evidence over that threshold: 1 or more confirms;
* **corroboration** (optional, from the caller): a possible incident whose counts alone do not confirm it
  is confirmed when the caller, asked about the window behind it, answers that its complaints describe the
  same thing (in the product: several people name a word their organisation's usual complaints rarely use,
  a building or an error message). A handful of posts is already unusual for a quiet service; what they
  say tells one failing thing from a coincidence of unrelated gripes. ``detect`` has counts only;
* a **state machine** calm -> possible -> confirmed -> resolved with hysteresis (leaving a state needs an
  hour of low evidence) and a cool-down (no second alert for the same series within a day); with
  ``distinct_authors`` given (a count per bucket, or better the authors' keys, so that one person is
  counted once across an evidence window), each person counts once per bucket, and both a possible and a
  confirmed incident need a minimum number of distinct authors within the window of a scale whose
  evidence opens or confirms it, so one angry person is never an outage, nor even a possible one.

All of it is pure Python, and the state round-trips through a JSON-able dict (``to_state`` /
``from_state``) so the product can keep one detector per service between runs.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

STATE_VERSION = 1
_LN10 = math.log(10.0)
_SQRT2 = math.sqrt(2.0)


class DetectorState(StrEnum):
    LEARNING = "learning"
    CALM = "calm"
    POSSIBLE = "possible"
    CONFIRMED = "confirmed"
    RESOLVED = "resolved"


_FLOOR = 0.05  # no hour, weekday or period is expected to be quieter than 5% of the average
_OPEN: tuple[DetectorState, ...] = (DetectorState.CONFIRMED,)


@dataclass(frozen=True)
class DetectorConfig:
    """One configuration for every series. ``sensitivity`` (a per-service setting, 1 = default) divides
    the thresholds: 2 raises incidents on half the evidence, 0.5 needs twice as much."""

    bucket_minutes: float = 15.0
    sensitivity: float = 1.0
    # Baseline learning; time constants are independent of the bucket size. The level forgets over days,
    # so neither an afternoon's outage nor a quiet weekend moves it much; the weekday factors carry the
    # weekly rhythm and learn it within a couple of weeks.
    warmup_hours: float = 48.0
    level_halflife_hours: float = 72.0
    profile_halflife_days: float = 7.0
    weekday_halflife_days: float = 14.0
    calendar_halflife_days: float = 7.0
    usual_halflife_days: float = 14.0  # what people are told is usual: see Detector.usual
    winsor_sd: float = 3.0
    prior_dispersion: float = 0.1
    prior_days: float = 1.0  # the prior dispersion weighs as much as a day of data, then fades
    incident_learning: float = 0.1  # baseline learning-rate factor while an incident is confirmed
    # Evidence: surprise (-log10 p) of the sum over each window, as (window minutes, confirmation
    # threshold) pairs; 0 minutes is a single bucket, tested more strictly because it is noisier.
    scales: tuple[tuple[float, float], ...] = ((0.0, 15.0), (60.0, 6.0), (360.0, 8.0))
    possible_ratio: float = 0.5  # "possible" at this fraction of the confirmation threshold
    clear_threshold: float = 2.0
    # Self-calibration: confirmation needs at least `reference_multiple` times the upper quartile of the
    # daily maxima of the evidence over the last `reference_days` days.
    reference_days: int = 14
    reference_min_days: int = 7
    reference_quantile: float = 0.75
    reference_multiple: float = 2.0
    # ... and a single bucket needs at least this fraction of the largest daily maximum of its scale
    # over the same days (only the single-bucket scale: one blip, unlike a sustained rise, is judged
    # against the bursts this series has already shown).
    reference_max_fraction: float = 0.3
    clear_minutes: float = 60.0
    cooldown_hours: float = 24.0
    min_authors: int = 3

    def __post_init__(self) -> None:
        if self.bucket_minutes <= 0:
            raise ValueError("bucket_minutes must be positive")
        if not (math.isfinite(self.sensitivity) and self.sensitivity > 0):  # inf would divide by zero
            raise ValueError(f"sensitivity must be a finite positive number (got {self.sensitivity!r})")
        if not self.scales:
            raise ValueError("at least one evidence scale is needed")


@dataclass(frozen=True)
class Decision:
    """The detector's verdict for one bucket. ``alert`` is True only at the moment an incident is
    confirmed (when an alert would be sent). ``score`` is the evidence relative to the confirmation
    threshold (1 or more confirms); ``surprise`` the largest raw -log10 tail probability; ``window`` the
    number of buckets (ending with this one) summed by the scale that gave ``score``: where to look for
    the complaints behind it; ``corroboration`` what confirmed it when the counts alone did not (the
    answer of ``Detector.update``'s ``corroborate``)."""

    state: DetectorState
    score: float
    alert: bool
    expected: float = 0.0
    surprise: float = 0.0
    window: int = 1
    corroboration: str = ""


# A calendar maps a bucket's time to the kind of period it falls in ("term", "holiday", "exams", ...);
# each kind gets its own learnt multiplicative factor. "" means ordinary time.
Calendar = Callable[[datetime], str]
# Asked, with a number of buckets ending with the current one, whether their complaints corroborate each
# other; answers why in a few words ("3 people wrote “hopkins”"), or "" when they do not.
Corroborate = Callable[[int], str]


_EXACT_TAIL_MAX = 60  # counts up to this are summed term by term; above, the deviance approximation


def nb_upper_surprise(observed: float, expected: float, dispersion: float) -> float:
    """``-log10 P(X >= observed)`` for X negative-binomial with mean ``expected`` and variance
    ``expected + dispersion * expected**2`` (Poisson when dispersion is 0); 0 when the count is not
    above its expectation.

    Counts of a few (what a campus service gets in an hour) are summed exactly, term by term from the
    observed count upwards; larger counts use the signed-root deviance with a half-count continuity
    correction, which is accurate there and needs no summation. (The approximation is conservative for
    small counts: three complaints against an expected 0.14 are 10^-3.4 exactly, 10^-3.0 by it.)
    """
    mu = max(expected, 1e-6)
    if observed - 0.5 <= mu:
        return 0.0
    count = math.ceil(observed - 1e-9)
    if count <= _EXACT_TAIL_MAX:
        return _exact_upper_surprise(count, mu, dispersion)
    y = observed - 0.5
    if dispersion <= 1e-9:
        dev = 2.0 * (y * math.log(y / mu) - (y - mu))
    else:
        k = 1.0 / dispersion
        dev = 2.0 * (y * math.log(y / mu) - (y + k) * math.log((y + k) / (mu + k)))
    z = math.sqrt(max(dev, 0.0))
    if z < 30.0:
        return -math.log10(max(0.5 * math.erfc(z / _SQRT2), 1e-300))
    return (z * z / 2.0 + math.log(z * math.sqrt(2.0 * math.pi))) / _LN10  # Mills-ratio asymptote


def _exact_upper_surprise(count: int, mu: float, dispersion: float) -> float:
    """``-log10 P(X >= count)``: the probability of ``count`` in log space, times the sum of the
    ratios of the following terms (each term is the previous one times a ratio below 1 past the mean)."""
    if dispersion <= 1e-9:
        log_p = -mu + count * math.log(mu) - math.lgamma(count + 1)
        r, q = math.inf, 0.0
    else:
        r = 1.0 / dispersion
        q = mu / (mu + r)
        log_p = (
            math.lgamma(count + r)
            - math.lgamma(r)
            - math.lgamma(count + 1)
            + r * math.log1p(-q)
            + count * math.log(q)
        )
    total = term = 1.0
    k = count
    for _ in range(5000):
        term *= mu / (k + 1) if r == math.inf else (k + r) / (k + 1) * q
        k += 1
        total += term
        if term < 1e-12 * total:
            break
    return max(0.0, -(log_p + math.log(total)) / _LN10)


def _digest(key: str) -> str:
    """A short digest of an author's key: enough to tell people apart, small to persist."""
    return hashlib.blake2s(key.encode(), digest_size=6).hexdigest()


def _half_life_weight(half_life_minutes: float, step_minutes: float) -> float:
    """Weight of one new observation in an EWMA whose half-life is given in time."""
    if half_life_minutes <= 0:
        return 1.0
    return 1.0 - 0.5 ** (step_minutes / half_life_minutes)


@dataclass
class EvidenceScale:
    """Sums over a window of ``width`` buckets: the negative-binomial dispersion of such sums, the fixed
    confirmation threshold, and the daily maxima of the surprise that self-calibrate it."""

    width: int
    threshold: float
    dispersion: float = 0.1
    excess: float = 0.0  # EWMA of (x - m)^2 - m
    square: float = 0.0  # EWMA of m^2
    seen: int = 0
    daily_maxima: list[float] = field(default_factory=list)
    block_max: float = 0.0


@dataclass
class Detector:
    """Streaming detector for one series (one service's complaint counts per bucket)."""

    config: DetectorConfig = field(default_factory=DetectorConfig)
    calendar: Calendar | None = None
    # Baseline
    level: float = 0.0
    profile: list[float] = field(default_factory=lambda: [1.0] * 24)
    weekday: list[float] = field(default_factory=lambda: [1.0] * 7)
    periods: dict[str, float] = field(default_factory=dict)
    # Time-averaged [count, seasonal factor] outside incidents: the usual level people are told of
    # (Detector.usual), steadier than the baseline's for a quiet service.
    usual_sums: list[float] = field(default_factory=lambda: [0.0, 0.0])
    n: int = 0
    # Evidence: recent (count, expected) pairs and one EvidenceScale per window.
    history: deque[tuple[float, float]] = field(default_factory=deque)
    scales: list[EvidenceScale] = field(default_factory=list)
    authors: deque[int | list[str]] = field(default_factory=deque)  # per bucket: a count or author keys
    leads: deque[list[str]] = field(default_factory=deque)  # per bucket: those mainly about this service
    block_minutes: float = 0.0  # time into the current 24 h block of the daily maxima
    # State machine
    state: DetectorState = DetectorState.LEARNING
    calm_minutes: float = 0.0
    since_episode: int = 1 << 30  # buckets since the last possible/confirmed episode ended
    last_alert: datetime | None = None
    last_timestamp: datetime | None = None

    def __post_init__(self) -> None:
        if not self.scales:
            widths: dict[int, float] = {}
            for minutes, threshold in self.config.scales:
                width = max(1, round(minutes / self.config.bucket_minutes))
                widths[width] = max(widths.get(width, 0.0), threshold)
            self.scales = [EvidenceScale(width=w, threshold=t) for w, t in sorted(widths.items())]

    # ---- baseline ---------------------------------------------------------------------------------
    def _weight(self, half_life_minutes: float) -> float:
        return _half_life_weight(half_life_minutes, self.config.bucket_minutes)

    def _period(self, ts: datetime) -> str:
        return (self.calendar(ts) or "") if self.calendar is not None else ""

    def _seasonal(self, ts: datetime, period: str) -> float:
        hour = ts.hour + ts.minute / 60.0
        h0, frac = int(hour) % 24, hour - int(hour)
        # Hourly knots, linearly interpolated, keep the profile smooth and learnable from low counts.
        prof = self.profile[h0] * (1 - frac) + self.profile[(h0 + 1) % 24] * frac
        factor = prof * self.weekday[ts.weekday()]
        if period:
            factor *= self.periods.get(period, 1.0)
        return max(factor, 1e-3)

    def expected(self, ts: datetime) -> float:
        """The baseline's expected count for the bucket starting at ``ts``."""
        return max(self.level * self._seasonal(ts, self._period(ts)), 1e-3)

    @property
    def calibration(self) -> float:
        """The usual level over the baseline's: the counts that came over the last weeks outside incidents,
        over the hour, weekday and term factors of the same buckets (a ratio of averages), against the
        baseline's level. For a busy series about 1. For a service with a complaint or two a day, less: its
        buckets hold 0 and now and then 1, and one complaint at an hour its factors call quiet lifts the
        baseline's level a lot (the level forgets in three days, so it is high for days after), so the
        baseline expects 1.2 to 2.6 times what comes (the demo's quieter services). Detection judges
        surprise against the baseline as it is (its thresholds were measured so); people are told the
        calibrated figure (`usual`)."""
        count, factors = self.usual_sums
        if count <= 0 or factors <= 0 or self.level <= 0:
            return 1.0
        return count / factors / self.level

    def usual(self, ts: datetime) -> float:
        """How many complaints usually come in the bucket starting at ``ts``, for people to read (the board's
        "typical", an alert's "about one every 3 hours"): the baseline's expectation, calibrated."""
        return self.expected(ts) * self.calibration

    @property
    def warming_up(self) -> bool:
        return self.n * self.config.bucket_minutes < self.config.warmup_hours * 60

    def _learn(self, ts: datetime, value: float, expected: float) -> None:
        cfg = self.config
        warm = self.warming_up
        # While an incident is confirmed the baseline learns slowly, so the outage does not become
        # the norm; a lasting change of level is still absorbed, over days instead of hours.
        slow = cfg.incident_learning if self.state in _OPEN else 1.0
        dispersion = self.scales[0].dispersion
        sd = math.sqrt(expected + dispersion * expected * expected)
        # Winsorise what the baseline learns from; one more count always passes, so a sparse service's
        # quiet hours are not learnt down to nothing.
        clipped = value if warm else min(value, expected + cfg.winsor_sd * sd + 1.0)
        period = self._period(ts)
        seasonal = self._seasonal(ts, period)
        if not warm and self.state not in _OPEN:
            w_usual = self._weight(cfg.usual_halflife_days * 24 * 60)
            self.usual_sums[0] += w_usual * (clipped - self.usual_sums[0])
            self.usual_sums[1] += w_usual * (seasonal - self.usual_sums[1])
        w_level = self._weight(cfg.level_halflife_hours * 60) * slow
        if warm:  # a running mean gets the level right quickly
            w_level = max(w_level, 1.0 / (self.n + 1))
        self.level += w_level * (clipped / seasonal - self.level)
        if self.level <= 0:
            return
        ratio = clipped / max(self.level * seasonal, 1e-6)
        # Each hourly knot is active one hour a day, so its half-life in active minutes is days x 60.
        hour = ts.hour + ts.minute / 60.0
        h0, frac = int(hour) % 24, hour - int(hour)
        w_prof = self._weight(cfg.profile_halflife_days * 60) * slow
        if warm:
            w_prof = max(w_prof, 12.0 / (self.n + 24))
        for h, share in ((h0, 1 - frac), ((h0 + 1) % 24, frac)):
            self.profile[h] = max(self.profile[h] * (1 + w_prof * share * (ratio - 1)), _FLOOR)
        mean = sum(self.profile) / 24
        self.profile = [p / mean for p in self.profile]
        # A weekday is active one day a week.
        w_day = self._weight(cfg.weekday_halflife_days * 24 * 60 / 7) * slow
        self.weekday[ts.weekday()] = max(self.weekday[ts.weekday()] * (1 + w_day * (ratio - 1)), _FLOOR)
        mean = sum(self.weekday) / 7
        self.weekday = [w / mean for w in self.weekday]
        if period:
            w_period = self._weight(cfg.calendar_halflife_days * 24 * 60) * slow
            factor = self.periods.get(period, 1.0) * (1 + w_period * (ratio - 1))
            self.periods[period] = max(factor, _FLOOR)

    # ---- evidence ---------------------------------------------------------------------------------
    def _window_sums(self) -> list[tuple[EvidenceScale, float, float]]:
        sums = []
        hist = list(self.history)
        for scale in self.scales:
            if len(hist) >= scale.width:
                window = hist[-scale.width :]
                sums.append((scale, sum(v for v, _ in window), sum(e for _, e in window)))
        return sums

    def _learn_dispersion(self, sums: list[tuple[EvidenceScale, float, float]]) -> None:
        """Pooled moment estimate of each scale's dispersion, ``E[(x - m)^2 - m] / E[m^2]`` over
        exponentially weighted time, from winsorised sums: quiet night buckets, where m is tiny, weigh
        little, so sparse Poisson counts stay at a dispersion near 0."""
        cfg = self.config
        half_life = self._weight(cfg.profile_halflife_days * 24 * 60)
        prior_buckets = cfg.prior_days * 24 * 60 / cfg.bucket_minutes
        for scale, x, m in sums:
            # A running mean that starts from the prior as if it were `prior_days` of data, until the
            # half-life's pace is faster: the prior fades in days, not weeks (a Poisson series would
            # otherwise keep a dispersion near the prior's for weeks, and a slow rise would hide in it).
            w = max(half_life, 1.0 / (prior_buckets + scale.seen + 1))
            if self.state in _OPEN:
                w *= cfg.incident_learning
            # Winsorise at Poisson noise plus the mean itself, a bound that does not grow with the
            # dispersion being estimated (else a few bursts could inflate it without limit).
            xc = min(x, 2 * m + cfg.winsor_sd * math.sqrt(m))
            if scale.seen == 0:  # start from the prior dispersion, then learn at the half-life's pace
                scale.square = m
                scale.excess = cfg.prior_dispersion * m
            scale.excess += w * (((xc - m) ** 2 - m) / m - scale.excess)
            scale.square += w * (m - scale.square)
            scale.dispersion = max(0.0, scale.excess / scale.square) if scale.square > 0 else 0.0
            scale.seen += 1

    def _reference(self, scale: EvidenceScale) -> float:
        if len(scale.daily_maxima) < self.config.reference_min_days:
            return 0.0  # too little history to say what an ordinary day looks like
        ordered = sorted(scale.daily_maxima)
        return ordered[min(len(ordered) - 1, int(self.config.reference_quantile * len(ordered)))]

    def confirm_threshold(self, scale: EvidenceScale) -> float:
        """The surprise this scale needs now to confirm an incident: its fixed threshold, raised to a
        multiple of an ordinary day's maximum on this series (and, for a single bucket, to a fraction of
        the largest recent daily maximum), divided by the sensitivity."""
        cfg = self.config
        reference = cfg.reference_multiple * self._reference(scale)
        if scale.width == 1 and len(scale.daily_maxima) >= cfg.reference_min_days:
            reference = max(reference, cfg.reference_max_fraction * max(scale.daily_maxima))
        return max(scale.threshold, reference) / cfg.sensitivity

    # ---- public API -------------------------------------------------------------------------------
    def update(
        self,
        timestamp: datetime,
        value: float,
        distinct_authors: int | Collection[str] | None = None,
        corroborate: Corroborate | None = None,
        *,
        leading: Collection[str] | None = None,
    ) -> Decision:
        """Feed the bucket starting at ``timestamp`` (buckets in order, one per ``bucket_minutes``)
        and return the decision for it, made before the bucket is learnt into the baseline.

        ``corroborate`` (optional) is asked, with a number of buckets ending with this one, whether the
        complaints in them corroborate each other (their authors describe the same thing); only when a
        possible incident stands open (evidence at ``possible_ratio`` or more, from enough people) and
        the counts alone do not confirm it. A non-empty answer confirms it, and is the decision's
        ``corroboration``: counts say little when a handful of posts is already unusual, what the posts
        say can settle it.

        ``leading`` (optional, for every bucket or none) are the keys of the people among
        ``distinct_authors`` whose complaint is mainly about this series' service (in the product, tagged
        to it first). When given, the minimum of distinct people that opens or confirms an incident counts
        only them: complaints mainly about another service that name this one too ("can't get into Moodle,
        the sign-on page just loops", during a VLE outage) add to the count, but three of them do not make
        a single sign-on incident."""
        value = float(value)
        if math.isnan(value) or value < 0:
            raise ValueError(f"a count must be a non-negative number, got {value!r}")
        # Order and cool-down are judged on the instant (UTC): two local times of one zone compare as wall-clock
        # times in Python, and the hour after a clock goes back would read as earlier than the one before it.
        # The rhythm (hour of day, weekday, term) is learnt from `timestamp` as given: local time in the product.
        instant = timestamp.astimezone(UTC) if timestamp.tzinfo is not None else timestamp
        if self.last_timestamp is not None and instant <= self.last_timestamp:
            raise ValueError(f"buckets must come in time order: {timestamp} after {self.last_timestamp}")
        # Each person counts once per bucket.
        authors: int | list[str] | None
        if distinct_authors is None or isinstance(distinct_authors, int):
            authors = distinct_authors
        else:  # keep short digests of the keys: enough to tell people apart, small to persist
            authors = sorted({_digest(k) for k in distinct_authors})
        n_authors = None if authors is None else authors if isinstance(authors, int) else len(authors)
        count = value if n_authors is None else min(value, float(n_authors))
        if self.n == 0:
            self.level = max(count, 0.5)
        expected = self.expected(timestamp)
        width = max(s.width for s in self.scales)
        self.history.append((count, expected))
        while len(self.history) > width:
            self.history.popleft()
        if authors is not None:
            self.authors.append(authors)
            while len(self.authors) > width:
                self.authors.popleft()
        if leading is not None:
            self.leads.append(sorted({_digest(k) for k in leading}))
            while len(self.leads) > width:
                self.leads.popleft()

        sums = self._window_sums()
        surprises: list[tuple[EvidenceScale, float]] = []
        strength = surprise = recent = confirming = opening = 0.0
        window = opening_width = 1
        # Calm is judged on the scales that fit in the clearing time: a six-hour window still holding
        # an outage's first hours does not keep it open once the last hour is quiet. And a window that
        # still holds an episode that has ended is not evidence of a new one (no echo of the last burst).
        episode = self.state in (DetectorState.POSSIBLE, DetectorState.CONFIRMED)
        short = max(
            1,
            min(s.width for s in self.scales),
            round(self.config.clear_minutes / self.config.bucket_minutes),
        )
        for scale, x, m in sums:
            if scale.seen >= 24:
                value_s = nb_upper_surprise(x, m, scale.dispersion)
                surprises.append((scale, value_s))
                surprise = max(surprise, value_s)
                if scale.width <= short:
                    recent = max(recent, value_s)
                if not episode and scale.width > max(short, self.since_episode):
                    continue
                ratio = value_s / self.confirm_threshold(scale)
                if ratio > strength:
                    strength, window = ratio, scale.width
                if self._authors_ok(scale.width):  # one person is neither a possible nor a confirmed incident
                    if ratio > opening:
                        opening, opening_width = ratio, scale.width
                    if ratio >= 1.0:
                        confirming = max(confirming, ratio)
        alert = False
        corroboration = ""
        if self.warming_up:
            self.state = DetectorState.LEARNING
        else:
            confirms = confirming >= 1.0
            if (
                corroborate is not None
                and not confirms
                and self.state != DetectorState.CONFIRMED
                and opening >= self.config.possible_ratio
            ):
                corroboration = corroborate(opening_width)
                confirms = bool(corroboration)
            alert = self._step(instant, strength, recent, confirms, opening)
        # Learn only after deciding: the decision at t never uses a baseline that has seen t.
        self._learn_dispersion(sums)
        self._learn(timestamp, count, expected)
        self._track_daily_max(surprises)
        self.n += 1
        self.since_episode = min(self.since_episode + 1, 1 << 30)
        self.last_timestamp = instant
        return Decision(
            state=self.state,
            score=round(strength, 4),
            alert=alert,
            expected=expected,
            surprise=round(surprise, 3),
            window=window,
            corroboration=corroboration,
        )

    def _track_daily_max(self, surprises: list[tuple[EvidenceScale, float]]) -> None:
        for scale, value in surprises:
            scale.block_max = max(scale.block_max, value)
        self.block_minutes += self.config.bucket_minutes
        if self.block_minutes >= 24 * 60:
            keep = int(self.config.reference_days)
            for scale in self.scales:
                scale.daily_maxima = [*scale.daily_maxima, scale.block_max][-keep:]
                scale.block_max = 0.0
            self.block_minutes = 0.0

    def onset_window(self, decision: Decision) -> int:
        """How many buckets (ending with the decision's) hold the complaints behind ``decision``: the
        window of the scale that gave its score, at least the clearing time (the last hour)."""
        short = max(1, round(self.config.clear_minutes / self.config.bucket_minutes))
        return max(decision.window, min(short, max(s.width for s in self.scales)))

    def _authors_ok(self, width: int) -> bool:
        """Enough distinct people among the last ``width`` buckets (always, without author data): the
        people mainly about this service, when the caller says who they are (``update``'s ``leading``)."""
        if self.leads:
            return len(set().union(*list(self.leads)[-width:])) >= self.config.min_authors
        if not self.authors:
            return True
        keys: set[str] = set()
        total = 0
        for entry in list(self.authors)[-width:]:
            if isinstance(entry, int):
                total += entry
            else:
                keys.update(entry)
        return total + len(keys) >= self.config.min_authors

    def _cooling_down(self, ts: datetime) -> bool:
        return self.last_alert is not None and ts - self.last_alert < timedelta(
            hours=self.config.cooldown_hours
        )

    def _step(self, ts: datetime, strength: float, recent: float, confirms: bool, opening: float) -> bool:
        """Advance the state machine on this bucket's evidence (``recent``: the surprise of the scales
        that fit in the clearing time; ``confirms``: some scale is over its threshold with enough
        distinct authors in its window; ``opening``: the strongest evidence among the scales with enough
        distinct authors, which opens a possible incident at ``possible_ratio``); True when an alert is
        due."""
        cfg = self.config
        clear = cfg.clear_threshold / cfg.sensitivity
        self.calm_minutes = self.calm_minutes + cfg.bucket_minutes if recent < clear else 0.0
        state = self.state
        if state in (DetectorState.LEARNING, DetectorState.RESOLVED):
            state = DetectorState.CALM
        alert = False
        if state == DetectorState.CALM and opening >= cfg.possible_ratio:
            state = DetectorState.POSSIBLE
        if state == DetectorState.POSSIBLE:
            if confirms:
                state = DetectorState.CONFIRMED
                # Within the cool-down a re-confirmation is the same episode: no second alert.
                if not self._cooling_down(ts):
                    alert = True
                    self.last_alert = ts
            elif self.calm_minutes >= cfg.clear_minutes and strength < cfg.possible_ratio:
                # Faded: the last hour is quiet and no scale (a slow rise either) still points up.
                state = DetectorState.CALM
        elif state == DetectorState.CONFIRMED:
            if self.calm_minutes >= cfg.clear_minutes:
                state = DetectorState.RESOLVED
            elif confirms and not self._cooling_down(ts):
                # Still open a day after its alert and surging again: alert again rather than stay silent.
                alert = True
                self.last_alert = ts
        if self.state in (DetectorState.POSSIBLE, DetectorState.CONFIRMED) and state not in (
            DetectorState.POSSIBLE,
            DetectorState.CONFIRMED,
        ):
            self.since_episode = 0
        self.state = state
        return alert

    # ---- persistence ------------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """A JSON-able snapshot of the configuration and of everything learnt (not the calendar)."""
        config = asdict(self.config)
        config["scales"] = [list(pair) for pair in self.config.scales]
        return {
            "version": STATE_VERSION,
            "config": config,
            "level": self.level,
            "profile": list(self.profile),
            "weekday": list(self.weekday),
            "periods": dict(self.periods),
            "usual_sums": list(self.usual_sums),
            "n": self.n,
            "history": [list(pair) for pair in self.history],
            "scales": [asdict(s) for s in self.scales],
            "authors": [a if isinstance(a, int) else list(a) for a in self.authors],
            "leads": [list(a) for a in self.leads],
            "block_minutes": self.block_minutes,
            "state": self.state.value,
            "calm_minutes": self.calm_minutes,
            "since_episode": self.since_episode,
            "last_alert": self.last_alert.isoformat() if self.last_alert else None,
            "last_timestamp": self.last_timestamp.isoformat() if self.last_timestamp else None,
        }

    @classmethod
    def from_state(
        cls, data: dict[str, Any], *, calendar: Calendar | None = None, sensitivity: float | None = None
    ) -> Detector:
        """Rebuild a detector from ``to_state()``; ``sensitivity`` overrides the stored one."""
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported detector state version {data.get('version')!r}")
        config_data = dict(data["config"])
        config_data["scales"] = tuple((float(m), float(t)) for m, t in config_data["scales"])
        config = DetectorConfig(**config_data)
        if sensitivity is not None:
            config = replace(config, sensitivity=sensitivity)
        return cls(
            config=config,
            calendar=calendar,
            level=float(data["level"]),
            profile=[float(p) for p in data["profile"]],
            weekday=[float(w) for w in data["weekday"]],
            periods={str(k): float(v) for k, v in data["periods"].items()},
            # Stored before it was kept: uncalibrated until it has learnt it.
            usual_sums=[float(x) for x in data.get("usual_sums", [0.0, 0.0])],
            n=int(data["n"]),
            history=deque((float(v), float(e)) for v, e in data["history"]),
            scales=[EvidenceScale(**s) for s in data["scales"]],
            authors=deque(a if isinstance(a, list) else int(a) for a in data["authors"]),
            leads=deque(list(a) for a in data.get("leads", [])),
            block_minutes=float(data["block_minutes"]),
            state=DetectorState(data["state"]),
            calm_minutes=float(data["calm_minutes"]),
            since_episode=int(data.get("since_episode", 1 << 30)),
            last_alert=datetime.fromisoformat(data["last_alert"]) if data["last_alert"] else None,
            last_timestamp=datetime.fromisoformat(data["last_timestamp"]) if data["last_timestamp"] else None,
        )
