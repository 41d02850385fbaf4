"""The scheduler's lease: one holder at a time, renewed by its holder, taken over when it expires or is
released."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from servicepulse.core.selectors import lease_holder
from servicepulse.core.services import lease_acquire, lease_release

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


def test_one_holder_at_a_time_until_it_expires() -> None:
    assert lease_acquire(name="scheduler", holder="a", ttl=TTL, now=T0)
    assert not lease_acquire(name="scheduler", holder="b", ttl=TTL, now=T0 + timedelta(seconds=10))
    # The holder renews before it expires; the standby still waits.
    assert lease_acquire(name="scheduler", holder="a", ttl=TTL, now=T0 + timedelta(seconds=25))
    assert not lease_acquire(name="scheduler", holder="b", ttl=TTL, now=T0 + timedelta(seconds=40))
    held = lease_holder(name="scheduler", now=T0 + timedelta(seconds=40))
    assert held is not None and held.holder == "a"
    # "a" stops renewing (killed, machine lost): "b" takes over once the renewed lease has run out.
    assert lease_acquire(name="scheduler", holder="b", ttl=TTL, now=T0 + timedelta(seconds=56))
    assert not lease_acquire(name="scheduler", holder="a", ttl=TTL, now=T0 + timedelta(seconds=57))


def test_release_hands_over_at_once_and_only_by_the_holder() -> None:
    assert lease_acquire(name="scheduler", holder="a", ttl=TTL, now=T0)
    lease_release(name="scheduler", holder="b")  # not the holder: nothing changes
    assert not lease_acquire(name="scheduler", holder="b", ttl=TTL, now=T0 + timedelta(seconds=1))
    lease_release(name="scheduler", holder="a")
    assert lease_holder(name="scheduler", now=T0 + timedelta(seconds=1)) is None
    assert lease_acquire(name="scheduler", holder="b", ttl=TTL, now=T0 + timedelta(seconds=1))


def test_leases_are_independent_by_name() -> None:
    assert lease_acquire(name="scheduler", holder="a", ttl=TTL, now=T0)
    assert lease_acquire(name="other", holder="b", ttl=TTL, now=T0)
    assert lease_holder(name="nothing", now=T0) is None
