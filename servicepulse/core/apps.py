from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _create_cache_table(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Without REDIS_URL the cache (rate limits, sessions' throttles) is a database table, which `migrate`
    alone does not create: every `migrate` (`servicepulse manage migrate`, `servicepulse run`) makes it,
    so a deployment that follows docs/deployment.md does not answer its first sign-in with a 500."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class CoreConfig(AppConfig):
    name = "servicepulse.core"
    label = "core"
    verbose_name = "servicepulse core"

    def ready(self) -> None:
        from servicepulse.core import checks  # noqa: F401  (registers the deployment checks)

        post_migrate.connect(_create_cache_table, sender=self, dispatch_uid="servicepulse.core.cache_table")
