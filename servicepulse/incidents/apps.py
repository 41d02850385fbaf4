from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "servicepulse.incidents"
    label = "incidents"

    def ready(self) -> None:
        from servicepulse.incidents import checks, receivers  # noqa: F401  (checks: registers the system checks)
        from servicepulse.mentions.signals import author_erasing, mentions_expiring

        author_erasing.connect(receivers.on_author_erasing, dispatch_uid="incidents.erase_author")
        mentions_expiring.connect(receivers.on_mentions_expiring, dispatch_uid="incidents.forget_expired")
