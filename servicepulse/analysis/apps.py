from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "servicepulse.analysis"
    label = "analysis"

    def ready(self) -> None:
        from servicepulse.analysis import receivers  # noqa: F401 - connects the signal receivers
