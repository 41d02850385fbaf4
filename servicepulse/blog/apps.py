from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "servicepulse.blog"
    label = "blog"
