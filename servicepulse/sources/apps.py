from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "servicepulse.sources"
    label = "sources"
