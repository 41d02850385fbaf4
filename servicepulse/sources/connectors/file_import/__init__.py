"""File import: JSON Lines or CSV files of mentions, one per line or row (`servicepulse import FILE`)."""

from __future__ import annotations

from typing import ClassVar

from servicepulse.sources.registry import Connector, register


@register
class FileImportConnector(Connector):
    kind: ClassVar[str] = "import"
    description: ClassVar[str] = "JSON Lines or CSV files of posts, loaded with `servicepulse import FILE`"
    can_pull: ClassVar[bool] = False
