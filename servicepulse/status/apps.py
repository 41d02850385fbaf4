from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "servicepulse.status"
    label = "status"
