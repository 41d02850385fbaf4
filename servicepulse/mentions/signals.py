"""`mentions_ingested` is sent after the transaction that stored new mentions commits.

Receivers get `mention_ids: list[int]` (only mentions newly created). The analysis app listens to enqueue
its pipeline; this keeps the data flowing one way (mentions know nothing of analysis).
"""

from django.dispatch import Signal

mentions_ingested = Signal()

# Sent after the transaction that changed stored mentions' text commits (the platform reported an edit), with
# `mention_ids: list[int]`. The analysis app reads them again.
mentions_revised = Signal()

# Sent inside the transaction that erases a person's posts (`servicepulse erase-author`), before the posts are
# deleted, with `author: str` (a name, handle or platform id), `mention_ids: list[int]` (their posts, still
# readable) and `source_id: int | None` (the one source the erasure is limited to, if any). Apps holding that
# person's words elsewhere remove them in their receiver, so the erasure commits or fails as one. A receiver
# may return a `dict[str, int]` of what it erased, which the command reports. Receivers: incidents
# (attachments, counts, explanations, timeline comments), blog (their comments, whether or not they became
# posts), dashboard (forgets its cached themes once the erasure commits).
author_erasing = Signal()

# Sent by `servicepulse export-author` (a subject access request) with `author: str`, `mention_ids: list[int]`
# (their posts) and `source_id: int | None`. What hangs off their posts (analysis, inbox cases, ...) is already
# in the export; an app holding that person's data elsewhere (not linked to a post) returns it as a
# `dict[str, list[dict]]` (JSON-ready), which the export lists under "elsewhere".
author_exporting = Signal()

# Sent inside the transaction that deletes posts past their source's retention period (nightly), before they
# are deleted, with `mention_ids: list[int]` (still readable). Apps that copied those posts' names or words
# elsewhere forget them in their receiver. Receivers: incidents (the names and quotes in explanations).
mentions_expiring = Signal()
