from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "servicepulse.accounts"
    label = "accounts"

    def ready(self) -> None:
        from allauth.account.decorators import secure_admin_login
        from django.contrib import admin

        from servicepulse.accounts.receivers import site_sync_after_migrate

        # Django admin's own sign-in form (/admin/login/) has no limit on wrong passwords, so it let anyone guess
        # a superuser's password without end, around the limits of the sign-in page. It now sends people to the
        # sign-in page (allauth's, rate-limited, with SSO) and back. Set here, before the URLconf reads it.
        admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

        # After every `migrate`, even with nothing to apply (`servicepulse run` migrates at each start), so the
        # Site allauth's e-mails name follows SERVICEPULSE_BASE_URL and SERVICEPULSE_ORGANISATION. Django sends
        # post_migrate only for apps with models, so this listens for the sites app's.
        post_migrate.connect(
            site_sync_after_migrate,
            sender=apps.get_app_config("sites"),
            dispatch_uid="servicepulse.accounts.site_sync",
        )
