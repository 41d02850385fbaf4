from django.apps import AppConfig


class EngageConfig(AppConfig):
    name = "servicepulse.engage"
    label = "engage"
