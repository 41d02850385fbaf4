from django.apps import AppConfig


class EngageConfig(AppConfig):
    name = "servicepulse.engage"
    label = "engage"

    def ready(self) -> None:
        from servicepulse.engage.receivers import on_mentions_ingested
        from servicepulse.mentions.signals import mentions_ingested

        mentions_ingested.connect(on_mentions_ingested, dispatch_uid="engage.optouts")
