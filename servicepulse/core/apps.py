from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "servicepulse.core"
    label = "core"
    verbose_name = "servicepulse core"
