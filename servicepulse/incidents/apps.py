from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "servicepulse.incidents"
    label = "incidents"

    def ready(self) -> None:
        from servicepulse.incidents import receivers
        from servicepulse.mentions.signals import author_erasing

        author_erasing.connect(receivers.on_author_erasing, dispatch_uid="incidents.erase_author")
