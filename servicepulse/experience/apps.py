from django.apps import AppConfig


class ExperienceConfig(AppConfig):
    name = "servicepulse.experience"
    label = "experience"
