from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "servicepulse.demo"
    label = "demo"
