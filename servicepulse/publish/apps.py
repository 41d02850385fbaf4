from django.apps import AppConfig


class PublishConfig(AppConfig):
    name = "servicepulse.publish"
    label = "publish"

    def ready(self) -> None:
        from django.db.models.signals import post_save, pre_delete, pre_save

        from servicepulse.blog.models import Post
        from servicepulse.mentions.signals import mentions_ingested
        from servicepulse.publish import receivers

        pre_save.connect(receivers.remember_previous, sender=Post, dispatch_uid="publish.post_previous")
        post_save.connect(receivers.on_post_saved, sender=Post, dispatch_uid="publish.post_saved")
        pre_delete.connect(receivers.on_post_deleting, sender=Post, dispatch_uid="publish.post_deleting")
        mentions_ingested.connect(receivers.on_mentions_ingested, dispatch_uid="publish.backfeed")
