from django.apps import AppConfig


class PublishConfig(AppConfig):
    name = "servicepulse.publish"
    label = "publish"
