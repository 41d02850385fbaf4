from django.apps import AppConfig


class MentionsConfig(AppConfig):
    name = "servicepulse.mentions"
    label = "mentions"
