"""`servicepulse dashboard-rollup`: recount the board's per-service daily rollup from the analysis results."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from servicepulse.dashboard.services import rollup_rebuild


class Command(BaseCommand):
    help = "Recount the dashboard's per-service daily rollup (after bulk imports or retraining)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{rollup_rebuild()} service-days written")
