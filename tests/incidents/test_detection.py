"""The streaming detector on synthetic campus-like series, and `detect`'s input checks."""

from __future__ import annotations

import csv
import json
import math
import os
import random
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from servicepulse.incidents.detection import (
    Detector,
    DetectorConfig,
    DetectorState,
    nb_upper_surprise,
)
from servicepulse.incidents.series import SeriesError, detect_csv, detect_series
from tests.cli import run_cli

START = datetime(2025, 10, 6, tzinfo=UTC)  # a Monday
BUCKET = timedelta(minutes=15)


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method: fine for the small rates of a campus service."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def campus_rate(ts: datetime) -> float:
    """Complaints per 15 minutes: ~2 an hour in the afternoon, almost none at night, quieter weekends."""
    daily = 0.05 + 0.45 * max(0.0, math.sin(math.pi * (ts.hour + ts.minute / 60 - 7) / 16))
    return daily * (0.6 if ts.weekday() >= 5 else 1.0)


def calm_series(days: int, seed: int = 1) -> list[tuple[datetime, int]]:
    rng = random.Random(seed)
    stamps = [START + i * BUCKET for i in range(days * 96)]
    return [(ts, poisson(rng, campus_rate(ts))) for ts in stamps]


def feed(detector: Detector, series: list[tuple[datetime, int]], authors: list[int] | None = None) -> list:
    decisions = []
    for i, (ts, value) in enumerate(series):
        decisions.append(detector.update(ts, value, None if authors is None else authors[i]))
    return decisions


def with_burst(series: list[tuple[datetime, int]], onset: int, length: int, extra: int) -> list:
    return [(ts, v + (extra if onset <= i < onset + length else 0)) for i, (ts, v) in enumerate(series)]


def test_burst_raises_one_alert_within_a_few_buckets() -> None:
    onset = 10 * 96 + 56  # day 10 (a Wednesday), 14:00
    series = with_burst(calm_series(12), onset, length=8, extra=6)
    decisions = feed(Detector(), series)
    alerts = [i for i, d in enumerate(decisions) if d.alert]
    assert len(alerts) == 1
    assert onset <= alerts[0] <= onset + 3
    assert decisions[alerts[0]].state == DetectorState.CONFIRMED
    assert decisions[alerts[0]].score >= 1.0


def test_calm_series_never_alerts() -> None:
    for seed in (1, 2, 3):
        decisions = feed(Detector(), calm_series(21, seed=seed))
        assert not any(d.alert for d in decisions)
        assert decisions[0].state == DetectorState.LEARNING
        assert decisions[-1].state in (DetectorState.CALM, DetectorState.POSSIBLE)


def test_one_angry_author_is_not_an_outage() -> None:
    onset = 10 * 96 + 56
    series = with_burst(calm_series(12), onset, length=8, extra=6)
    authors = [min(v, 1) if onset <= i < onset + 8 else v for i, (_, v) in enumerate(series)]
    decisions = feed(Detector(), series, authors)
    assert not any(d.alert for d in decisions)
    assert all(d.state != DetectorState.CONFIRMED for d in decisions)


def test_one_author_across_buckets_is_counted_once() -> None:
    """Six complaints in six quarter-hours from the same person: per-bucket counts would add up to six
    "distinct" authors over the hour; author keys count the person once."""
    onset = 10 * 96 + 8  # 02:00, a quiet hour
    series = [(ts, 1 if onset <= i < onset + 6 else 0) for i, (ts, _) in enumerate(calm_series(11))]
    keen = DetectorConfig(sensitivity=4.0)
    as_counts = feed(Detector(config=keen), series, [v for _, v in series])
    as_keys = feed(Detector(config=keen), series, [{"the-ranter"} if v else set() for _, v in series])
    assert any(d.alert for d in as_counts)
    assert not any(d.alert for d in as_keys)
    # Nor is one person a possible incident: nothing opens on the dashboard.
    assert all(d.state not in (DetectorState.CONFIRMED, DetectorState.POSSIBLE) for d in as_keys)
    assert (
        max(d.score for d in as_keys) >= DetectorConfig().possible_ratio
    )  # the evidence alone would open one


def test_many_authors_confirm() -> None:
    onset = 10 * 96 + 56
    series = with_burst(calm_series(12), onset, length=8, extra=6)
    decisions = feed(Detector(), series, [v for _, v in series])
    assert sum(d.alert for d in decisions) == 1


def test_hysteresis_and_cool_down() -> None:
    base = calm_series(14)
    first = 10 * 96 + 40  # day 10, 10:00
    series = with_burst(base, first, length=6, extra=6)
    series = with_burst(series, first + 7, length=6, extra=6)  # one quiet bucket inside the episode
    series = with_burst(series, first + 24, length=6, extra=6)  # again 4 hours later: same episode
    series = with_burst(series, first + 2 * 96 + 8, length=6, extra=8)  # two days later: a new incident
    decisions = feed(Detector(), series)
    states = [d.state for d in decisions]
    alerts = [i for i, d in enumerate(decisions) if d.alert]
    assert len(alerts) == 2
    assert first <= alerts[0] <= first + 3
    assert first + 2 * 96 + 8 <= alerts[1] <= first + 2 * 96 + 11
    # The quiet bucket does not resolve the incident (hysteresis) ...
    assert states[first + 6] == DetectorState.CONFIRMED
    # ... an hour of calm does, and the next surge within the cool-down alerts nobody.
    assert DetectorState.RESOLVED in states[first + 13 : first + 24]
    assert not any(d.alert for d in decisions[first + 24 : first + 30])


@pytest.mark.parametrize("seed", [1, 4])
def test_a_resolved_burst_leaves_no_echo(seed: int) -> None:
    """The six-hour window still holds a burst after the incident resolves; that is not a new one."""
    onset = 10 * 96 + 56
    series = with_burst(calm_series(12, seed=seed), onset, length=8, extra=6)
    decisions = feed(Detector(), series)
    states = [d.state for d in decisions]
    assert sum(d.alert for d in decisions) == 1
    resolved = states.index(DetectorState.RESOLVED, onset)
    assert resolved - onset <= 20  # an hour of quiet after the burst, not six
    assert all(s == DetectorState.CALM for s in states[resolved + 1 : resolved + 25])


def test_decision_window_points_at_the_burst() -> None:
    onset = 10 * 96 + 56
    series = with_burst(calm_series(12), onset, length=8, extra=6)
    decisions = feed(Detector(), series)
    alert = next(d for d in decisions if d.alert)
    assert 1 <= alert.window <= 4  # a bucket or the last hour, not the six-hour scale


def test_slow_rise_confirmed_by_the_six_hour_scale() -> None:
    """A busy service 60% above its usual level for eight hours: no hour stands out, six hours do."""
    rng = random.Random(4)
    onset = 30 * 96 + 40
    series = [
        (START + i * BUCKET, poisson(rng, 8.0 * (1.6 if onset <= i < onset + 32 else 1.0)))
        for i in range(32 * 96)
    ]
    alerts = [d for d in feed(Detector(), series) if d.alert]
    assert [d.window for d in alerts] == [24]
    hour_only = DetectorConfig(scales=((0.0, 15.0), (60.0, 6.0)))
    assert not any(d.alert for d in feed(Detector(config=hour_only), series))


def test_a_smaller_blip_after_a_burst_storm_is_no_incident() -> None:
    """A busy series has shown a huge one-bucket spike; three days later a blip a third its size, which
    alone would confirm, is judged against it (the series' bursts are heavy-tailed), not alerted."""
    rng = random.Random(1)
    big, small = 10 * 96 + 56, 13 * 96 + 56
    series = [
        (START + i * BUCKET, poisson(rng, 8.0) + (120 if i == big else 45 if i == small else 0))
        for i in range(15 * 96)
    ]
    single = ((0.0, 15.0),)  # only the single-bucket scale, so nothing else can confirm the blip
    forgetful = DetectorConfig(scales=single, reference_max_fraction=0.0)
    assert [i for i, d in enumerate(feed(Detector(config=forgetful), series)) if d.alert] == [big, small]
    default = DetectorConfig(scales=single)
    assert [i for i, d in enumerate(feed(Detector(config=default), series)) if d.alert] == [big]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_recurring_outage_is_confirmed_as_fast_as_the_first(seed: int) -> None:
    """The largest-burst rule holds only single buckets: a sustained rise three days after the same rise
    alerts at the same point of its course."""
    first, again = 10 * 96 + 56, 13 * 96 + 56
    series = with_burst(with_burst(calm_series(15, seed=seed), first, 8, 6), again, 8, 6)
    alerts = [i for i, d in enumerate(feed(Detector(), series)) if d.alert]
    assert len(alerts) == 2
    assert alerts[1] - again == alerts[0] - first
    forgetful = DetectorConfig(reference_max_fraction=0.0)
    assert [i for i, d in enumerate(feed(Detector(config=forgetful), series)) if d.alert] == alerts


def test_what_a_quiet_service_usually_gets_is_told_as_it_comes() -> None:
    """About two complaints a day with a daily rhythm, eight generated six weeks. The baseline expects more
    than comes (a complaint at an hour its factors call quiet lifts the level a lot): detection's thresholds
    were measured against that, so it stays. What people are told is usual (`usual`: the board's "typical",
    an alert's "about one every 3 hours") is calibrated on what came, and lands near the truth."""
    raw, told = [], []
    for seed in range(8):
        rng = random.Random(seed)
        detector = Detector()
        stamps = [START + i * BUCKET for i in range(42 * 96)]
        for ts in stamps:
            detector.update(ts, poisson(rng, 0.08 * campus_rate(ts)))
        week = [stamps[-1] + (i + 1) * BUCKET for i in range(7 * 96)]
        truth = sum(0.08 * campus_rate(t) for t in week)
        raw.append(sum(detector.expected(t) for t in week) / truth)
        told.append(sum(detector.usual(t) for t in week) / truth)
    median = len(raw) // 2
    assert sorted(raw)[median] > 1.3, raw
    assert 0.8 <= sorted(told)[median] <= 1.25, told
    # Kept with the rest of what the detector learnt; a state stored before it starts uncalibrated.
    state = json.loads(json.dumps(detector.to_state()))
    assert Detector.from_state(state).calibration == pytest.approx(detector.calibration)
    del state["usual_sums"]
    assert Detector.from_state(state).calibration == 1.0


def test_what_the_posts_say_can_confirm_a_possible_incident() -> None:
    """Four complaints in three quarters of an hour at 04:00: a possible problem on their count, not a
    confirmed one. The detector asks whether the posts corroborate each other only then (never in calm
    buckets), over the window whose evidence opened it; an answer confirms it and says why."""
    series = calm_series(10)
    onset = 9 * 96 + 16  # day 9, 04:00
    for k, extra in enumerate([1, 2, 1]):
        series[onset + k] = (series[onset + k][0], series[onset + k][1] + extra)
    asked: list[tuple[int, int]] = []

    def run(answer: str) -> list:
        detector = Detector(config=DetectorConfig(bucket_minutes=15))
        decisions = []
        for i, (ts, value) in enumerate(series):
            decisions.append(
                detector.update(ts, value, None, lambda width, i=i: asked.append((i, width)) or answer)
            )
        return decisions

    unsaid = run("")
    assert [d.state for d in unsaid[onset + 2 : onset + 4]] == [DetectorState.POSSIBLE] * 2
    assert not any(d.alert for d in unsaid) and not any(d.corroboration for d in unsaid)
    # Asked only while a possible problem stood open, about the last hour (4 buckets of 15 minutes).
    assert asked and all(onset + 2 <= i < onset + 8 and width == 4 for i, width in asked)
    asked.clear()
    said = run("3 people wrote “hopkins”")
    confirmed = said[onset + 2]
    assert confirmed.state == DetectorState.CONFIRMED and confirmed.alert
    assert confirmed.corroboration == "3 people wrote “hopkins”" and confirmed.score < 1
    assert [i for i, _ in asked] == [onset + 2]  # not asked again once confirmed
    assert sum(d.alert for d in said) == 1


def test_state_round_trips_through_json() -> None:
    onset = 10 * 96 + 56
    series = with_burst(calm_series(12), onset, length=8, extra=6)
    whole = feed(Detector(), series)
    half = Detector()
    first = feed(half, series[: onset + 2])
    restored = Detector.from_state(json.loads(json.dumps(half.to_state())))
    second = feed(restored, series[onset + 2 :])
    assert first + second == whole


def test_only_people_mainly_about_the_service_make_it_an_incident() -> None:
    """The same burst from six people: an incident when they are mainly about this service (``leading``),
    none when they are all mainly about another one; the leading people survive a save and load."""
    onset = 10 * 96 + 56
    series = with_burst(calm_series(12), onset, length=8, extra=6)
    people = [[f"p{i}-{k}" for k in range(int(v))] for i, (_, v) in enumerate(series)]

    def run(lead: bool, *, reload_at: int | None = None) -> list:
        detector, decisions = Detector(), []
        for i, ((ts, value), keys) in enumerate(zip(series, people, strict=True)):
            if i == reload_at:
                detector = Detector.from_state(json.loads(json.dumps(detector.to_state())))
            decisions.append(detector.update(ts, value, keys, leading=keys if lead else []))
        return decisions

    assert sum(d.alert for d in run(lead=True)) == 1
    assert not any(
        d.state in (DetectorState.POSSIBLE, DetectorState.CONFIRMED) for d in run(lead=False)[onset:]
    )
    assert run(lead=True, reload_at=onset + 1) == run(lead=True)


def test_sensitivity_scales_the_thresholds() -> None:
    onset = 10 * 96 + 56
    series = with_burst(calm_series(12), onset, length=4, extra=2)
    faint = feed(Detector(), series)
    keen = feed(Detector(config=DetectorConfig(sensitivity=3.0)), series)
    assert not any(d.alert for d in faint)
    assert any(d.alert for d in keen)
    state = Detector(config=DetectorConfig(sensitivity=3.0)).to_state()
    assert Detector.from_state(state, sensitivity=0.5).config.sensitivity == 0.5


def test_calendar_periods_get_their_own_level() -> None:
    def calendar(ts: datetime) -> str:
        return "exams" if ts.day % 7 < 2 else "term"

    rng = random.Random(5)
    series = []
    for i in range(14 * 96):
        ts = START + i * BUCKET
        series.append((ts, poisson(rng, campus_rate(ts) * (3.0 if calendar(ts) == "exams" else 1.0))))
    detector = Detector(calendar=calendar)
    decisions = feed(detector, series)
    assert detector.periods["exams"] > 1.25 * detector.periods["term"]
    assert not any(d.alert for d in decisions)


def test_decisions_are_causal() -> None:
    series = calm_series(12)
    changed = series[:700] + [(ts, v + 50) for ts, v in series[700:]]
    assert feed(Detector(), series)[:700] == feed(Detector(), changed)[:700]


def test_negative_binomial_tail_is_exact_for_small_counts() -> None:
    from scipy.stats import nbinom
    from scipy.stats import poisson as poisson_dist

    for mu, k in ((0.14, 3), (0.5, 3), (2.0, 6), (4.0, 12), (20.0, 41), (30.0, 60)):
        assert nb_upper_surprise(k, mu, 0.0) == pytest.approx(
            -math.log10(poisson_dist.sf(k - 1, mu)), abs=1e-6
        )
        r = 1 / 0.3
        exact = nbinom.sf(k - 1, r, r / (r + mu))
        assert nb_upper_surprise(k, mu, 0.3) == pytest.approx(-math.log10(exact), abs=1e-6)
    # Above the exact range the deviance approximation takes over, without a jump at the seam.
    assert nb_upper_surprise(61, 30.0, 0.0) == pytest.approx(-math.log10(poisson_dist.sf(60, 30.0)), abs=0.1)
    assert nb_upper_surprise(61, 30.0, 0.0) > nb_upper_surprise(60, 30.0, 0.0)
    assert nb_upper_surprise(1, 4.0, 0.0) == 0.0
    assert nb_upper_surprise(40, 4.0, 0.5) < nb_upper_surprise(40, 4.0, 0.0)
    assert math.isfinite(nb_upper_surprise(1e6, 1.0, 0.0))
    assert math.isfinite(nb_upper_surprise(60, 1e-9, 0.0))


def test_out_of_order_bucket_is_refused() -> None:
    detector = Detector()
    detector.update(START, 1)
    with pytest.raises(ValueError, match="time order"):
        detector.update(START, 1)


# ---- detect_series / detect --------------------------------------------------------------------------


def rows(values: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"timestamp": t, "value": v} for t, v in values]


def test_detect_series_writes_every_row() -> None:
    series = with_burst(calm_series(12), 10 * 96 + 56, length=8, extra=6)
    out = detect_series(rows([(ts.strftime("%Y-%m-%d %H:%M:%S"), str(v)) for ts, v in series]))
    assert len(out) == len(series)
    assert out[0]["timestamp"] == "2025-10-06 00:00:00"
    assert sum(int(r["alert"]) for r in out) == 1


def test_detect_series_runs_another_configuration_at_the_series_bucket_size() -> None:
    """Benchmarks try other constants (bench_nab --grid): the given configuration is used, with the bucket
    size still read from the series and the sensitivity from its argument."""
    series = with_burst(calm_series(12), 10 * 96 + 56, length=8, extra=6)
    data = rows([(ts.strftime("%Y-%m-%d %H:%M:%S"), str(v)) for ts, v in series])
    shipped = [r["timestamp"] for r in detect_series(data) if r["alert"]]
    # Thresholds a thousand times higher: deaf, until a sensitivity of 1,000 divides them back.
    deaf = replace(
        DetectorConfig(), bucket_minutes=60.0, scales=tuple((m, t * 1000) for m, t in DetectorConfig().scales)
    )
    assert [r["timestamp"] for r in detect_series(data, config=deaf) if r["alert"]] == []
    assert [
        r["timestamp"] for r in detect_series(data, config=deaf, sensitivity=1000) if r["alert"]
    ] == shipped


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([("2025-01-01 00:00", "1"), ("2025-01-01 00:00", "2")], "line 3: duplicate timestamp"),
        ([("2025-01-01 00:15", "1"), ("2025-01-01 00:00", "2")], "line 3: .* earlier than the previous"),
        (
            [("2025-01-01 00:00", "1"), ("2025-01-01 00:15", "2"), ("2025-01-01 00:45", "2")],
            "line 4: irregular spacing, 30 minutes .* every 15 minutes",
        ),
        ([("2025-01-01 00:00", "1"), ("2025-01-01 00:15", "lots")], "line 3: value 'lots' is not a number"),
        ([("2025-01-01 00:00", "-1")], "line 2: value '-1' is not a non-negative count"),
        ([("2025-01-01 00:00", "nan")], "line 2: value 'nan' is not a non-negative count"),
        ([("yesterday", "1")], "line 2: timestamp 'yesterday' is not an ISO 8601"),
        ([], "no data rows"),
    ],
)
def test_detect_series_rejects_bad_input(data: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(SeriesError, match=message):
        detect_series(rows(data))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("timestamp,count\n2025-01-01 00:00,1\n", "missing column 'value'"),
        ("timestamp,value\n", "no data rows"),
        (
            "timestamp,value\n2025-01-01 00:00,1\n2025-01-01 00:05\n",
            r"line 3: no value \(need timestamp,value\)",
        ),
        (
            "timestamp,value\n2025-01-01 00:00,1\n\n2025-01-01 00:15,x\n",
            "line 4: value 'x' is not a number",  # the blank line counts
        ),
        (
            "timestamp,value\n2025-01-01 00:00,1\n2025-01-01 00:15,1\n2025-01-01 00:45,1\n"
            "2025-01-01 00:30,1\n2025-01-01 01:00,1\n",
            "line 5: timestamp '2025-01-01 00:30' is earlier than the previous row's .* sorted by time",
        ),
        (
            "timestamp,value\n2025-01-01 00:00,1\n\n2025-01-01 00:15,1\n2025-01-01 00:45,1\n",
            "line 5: irregular spacing",
        ),
    ],
)
def test_detect_command_fails_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text(content)
    with pytest.raises(CommandError, match=message) as info:
        call_command("detect", str(source), output=str(tmp_path / "out.csv"))
    assert "\n" not in str(info.value)


def test_detect_command_reads_a_byte_order_mark(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"\xef\xbb\xbftimestamp,value\r\n2025-01-01 00:00,1\r\n2025-01-01 00:15,2\r\n")
    call_command("detect", str(source), output=str(tmp_path / "out.csv"))
    with (tmp_path / "out.csv").open(newline="") as handle:
        assert [r["timestamp"] for r in csv.DictReader(handle)] == ["2025-01-01 00:00", "2025-01-01 00:15"]


def test_detect_command_not_utf8(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"timestamp,value\n2025-01-01 00:00,1\n2025-01-01 00:15,caf\xe9\n")
    with pytest.raises(CommandError, match="line 3: not UTF-8 text"):
        call_command("detect", str(source), output=str(tmp_path / "out.csv"))


def test_detect_command_refuses_to_write_over_its_input(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    series = "timestamp,value\n2025-01-01 00:00,1\n2025-01-01 00:15,2\n"
    source.write_text(series)
    with pytest.raises(CommandError, match="is the input file"):
        call_command("detect", str(source), output=str(tmp_path / "." / "in.csv"))
    assert source.read_text() == series  # the counts are still there


@pytest.mark.parametrize("where", ["missing-dir", "a-directory"])
def test_detect_command_output_cannot_be_written(tmp_path: Path, where: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2025-01-01 00:00,1\n")
    output = tmp_path / "nonexistent" / "out.csv" if where == "missing-dir" else tmp_path
    with pytest.raises(CommandError, match=re.escape(f"cannot write {output}: ")) as info:
        call_command("detect", str(source), output=str(output))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1"])
def test_detect_command_sensitivity_must_be_finite_and_positive(tmp_path: Path, value: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2025-01-01 00:00,1\n")
    with pytest.raises(CommandError, match="--sensitivity must be a finite positive number"):
        call_command("detect", str(source), "--sensitivity", value, output=str(tmp_path / "out.csv"))
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("value", [math.inf, math.nan, 0.0, -2.0])
def test_detector_config_rejects_a_sensitivity_that_is_not_finite_and_positive(value: float) -> None:
    with pytest.raises(ValueError, match="finite positive"):
        DetectorConfig(sensitivity=value)


@pytest.mark.own_database  # no database at all
def test_detect_command_on_the_command_line(tmp_path: Path) -> None:
    """One line on stderr, no traceback, non-zero exit; and no database needed."""
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2025-01-01 00:00,1\n")
    env = {**os.environ, "SERVICEPULSE_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    failed = run_cli("detect", str(source), "--output", str(tmp_path / "no" / "out.csv"), env=env)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == [
        f"CommandError: cannot write {tmp_path}/no/out.csv: No such file or directory"
    ]
    done = run_cli("detect", str(source), "--output", str(tmp_path / "out.csv"), env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.csv").exists()


@pytest.mark.own_database  # no database at all
def test_detect_to_stdout_piped_into_head_stops_quietly(tmp_path: Path) -> None:
    """`servicepulse detect IN.csv --output - | head`: exit 141 like `yes | head`, no error line."""
    series = calm_series(40)  # about 150 KB of output: more than a pipe holds
    source = tmp_path / "in.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value"])
        writer.writerows((ts.isoformat(), v) for ts, v in series)
    env = {**os.environ, "SERVICEPULSE_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "servicepulse.cli", "detect", str(source), "--output", "-"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"timestamp,alert,score\r\n"
    proc.stdout.close()  # `| head -1`: the reader has what it wanted
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Broken pipe" not in err and "Traceback" not in err, err
    assert proc.returncode == 141


def test_detect_command_writes_alerts(tmp_path: Path) -> None:
    series = with_burst(calm_series(12), 10 * 96 + 56, length=8, extra=6)
    source = tmp_path / "in.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value"])
        writer.writerows((ts.isoformat(), v) for ts, v in series)
    call_command("detect", str(source), output=str(tmp_path / "out.csv"))
    with (tmp_path / "out.csv").open() as handle:
        out = list(csv.DictReader(handle))
    assert [r["timestamp"] for r in out] == [ts.isoformat() for ts, _ in series]
    assert sum(int(r["alert"]) for r in out) == 1
    assert detect_csv(source, tmp_path / "again.csv") == 1


def test_detect_command_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read the file"):
        call_command("detect", str(tmp_path / "absent.csv"), output=str(tmp_path / "out.csv"))


def test_detect_command_output_dash_is_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from io import StringIO

    monkeypatch.chdir(tmp_path)
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2025-01-01 00:00,1\n2025-01-01 00:15,2\n")
    out, err = StringIO(), StringIO()
    call_command("detect", str(source), output="-", stdout=out, stderr=err)
    assert not (tmp_path / "-").exists()  # no file named "-"
    call_command("detect", str(source), output=str(tmp_path / "out.csv"))
    assert out.getvalue().encode() == (tmp_path / "out.csv").read_bytes()  # what the file would hold
    assert err.getvalue() == "0 alert(s) written to stdout\n"


@pytest.mark.own_database  # no database at all
def test_detect_command_output_dash_on_the_command_line(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2025-01-01 00:00,1\n2025-01-01 00:15,2\n")
    env = {**os.environ, "SERVICEPULSE_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "servicepulse.cli", "detect", str(source), "--output", "-"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(done.stdout.splitlines()))
    assert [r["timestamp"] for r in rows] == ["2025-01-01 00:00", "2025-01-01 00:15"]
    assert done.stderr.strip() == "0 alert(s) written to stdout"
    assert not (tmp_path / "-").exists()
