from django.urls import path

from servicepulse.blog import views

app_name = "blog"
urlpatterns = [
    path("", views.index, name="index"),
    path("feed/", views.feed, name="feed"),
    path("rss/", views.rss, name="rss"),
    path("archive/", views.archive, name="archive"),
    path("archive/<int:year>/<int:month>/", views.archive_month, name="archive_month"),
    path("tag/<slug:slug>/", views.tag, name="tag"),
    path("webmention/", views.webmention_endpoint, name="webmention"),
    path("write/", views.post_new, name="post_new"),
    path("drafts/", views.drafts, name="drafts"),
    path("moderation/", views.moderation, name="moderation"),
    path("moderation/apply/", views.moderation_apply, name="moderation_apply"),
    path("moderation/words/", views.word_lists, name="word_lists"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("subscriptions/<str:token>/confirm/", views.subscription_confirm, name="subscription_confirm"),
    path(
        "subscriptions/<str:token>/unsubscribe/",
        views.subscription_unsubscribe,
        name="subscription_unsubscribe",
    ),
    path("posts/<slug:slug>/", views.post_detail, name="post"),
    path("posts/<slug:slug>/edit/", views.post_edit, name="post_edit"),
    path("posts/<slug:slug>/comments/feed/", views.post_comments_feed, name="comments_feed"),
    path("posts/<slug:slug>/trackback/", views.trackback_endpoint, name="trackback"),
]
