"""What several status tests set up alike."""

from __future__ import annotations

from datetime import UTC, datetime

from servicepulse.status.models import Maintenance
from servicepulse.status.services import maintenance_schedule

# Noon the day before British Summer Time ends (01:00 UTC, 25 October 2026).
EVE_OF_CLOCK_CHANGE = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)


def overnight_upgrade() -> Maintenance:
    """Moodle's overnight upgrade across the end of British Summer Time: 00:30 BST to 02:30 GMT. Scheduled at
    EVE_OF_CLOCK_CHANGE (call it with the clock frozen there): a window must start in the future."""
    return maintenance_schedule(
        title="Moodle upgrade",
        service_ids=["vle"],
        starts_at=datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
        ends_at=datetime(2026, 10, 25, 2, 30, tzinfo=UTC),
    )
