"""`mentions_ingested` is sent after the transaction that stored new mentions commits.

Receivers get `mention_ids: list[int]` (only mentions newly created). The analysis app listens to enqueue
its pipeline; this keeps the data flowing one way (mentions know nothing of analysis).
"""

from django.dispatch import Signal

mentions_ingested = Signal()
