from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "servicepulse.blog"
    label = "blog"

    def ready(self) -> None:
        from servicepulse.blog import receivers
        from servicepulse.mentions.signals import author_erasing, author_exporting

        author_erasing.connect(receivers.on_author_erasing, dispatch_uid="blog.erase_author")
        author_exporting.connect(receivers.on_author_exporting, dispatch_uid="blog.export_author")
