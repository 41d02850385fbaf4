from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "servicepulse.catalog"
    label = "catalog"
