from django.urls import path

from servicepulse.sources import views

app_name = "sources"
# `path`, not `str`: a source's name is free text and may hold a slash ("IT / Slack").
urlpatterns = [
    path("hooks/<path:source_name>/", views.webhook, name="webhook"),
    path("widget/<path:source_name>/embed.js", views.widget_embed, name="widget-embed"),
    path("widget/<path:source_name>/session/", views.widget_session, name="widget-session"),
    path("widget/<path:source_name>/reports/", views.widget_report, name="widget-report"),
]
