from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "servicepulse.incidents"
    label = "incidents"
