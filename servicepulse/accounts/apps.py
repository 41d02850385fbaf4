from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "servicepulse.accounts"
    label = "accounts"

    def ready(self) -> None:
        from servicepulse.accounts.receivers import site_sync_after_migrate

        # After every `migrate`, even with nothing to apply (`servicepulse run` migrates at each start), so the
        # Site allauth's e-mails name follows SERVICEPULSE_BASE_URL and SERVICEPULSE_ORGANISATION. Django sends
        # post_migrate only for apps with models, so this listens for the sites app's.
        post_migrate.connect(
            site_sync_after_migrate,
            sender=apps.get_app_config("sites"),
            dispatch_uid="servicepulse.accounts.site_sync",
        )
