from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "servicepulse.dashboard"
    label = "dashboard"
