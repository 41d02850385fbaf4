from django.apps import AppConfig


class ExperienceConfig(AppConfig):
    name = "servicepulse.experience"
    label = "experience"

    def ready(self) -> None:
        from servicepulse.experience import checks  # noqa: F401  (registers the system checks)
