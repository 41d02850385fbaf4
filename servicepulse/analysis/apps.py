from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "servicepulse.analysis"
    label = "analysis"
