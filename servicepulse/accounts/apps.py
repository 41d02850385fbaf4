from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "servicepulse.accounts"
    label = "accounts"
