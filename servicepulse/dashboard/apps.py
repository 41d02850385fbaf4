from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "servicepulse.dashboard"
    label = "dashboard"

    def ready(self) -> None:
        from servicepulse.dashboard import receivers
        from servicepulse.mentions.signals import author_erasing

        author_erasing.connect(receivers.on_author_erasing, dispatch_uid="dashboard.erase_author")
