from django.urls import path

from servicepulse.publish import views
from servicepulse.publish.feeds import DigestFeed

app_name = "publish"
urlpatterns = [
    path("digest/", views.digest_current, name="digest"),
    path("digest/feed/", DigestFeed(), name="digest_feed"),
    path("digest/feed/new/", views.digest_feed_new, name="digest_feed_new"),
    path("digest/<str:week>/", views.digest_week, name="digest_week"),
    path("accounts/", views.crosspost_accounts, name="crosspost_accounts"),
    path("posts/<slug:slug>/", views.crosspost_post, name="crosspost_post"),
]
