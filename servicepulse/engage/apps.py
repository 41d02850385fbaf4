from django.apps import AppConfig


class EngageConfig(AppConfig):
    name = "servicepulse.engage"
    label = "engage"

    def ready(self) -> None:
        from servicepulse.engage.receivers import on_author_exporting, on_mentions_ingested
        from servicepulse.mentions.signals import author_exporting, mentions_ingested

        mentions_ingested.connect(on_mentions_ingested, dispatch_uid="engage.optouts")
        author_exporting.connect(on_author_exporting, dispatch_uid="engage.export_author")
