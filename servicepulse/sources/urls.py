from django.urls import path

from servicepulse.sources import views

app_name = "sources"
urlpatterns = [
    path("hooks/<str:source_name>/", views.webhook, name="webhook"),
    path("widget/<str:source_name>/embed.js", views.widget_embed, name="widget-embed"),
    path("widget/<str:source_name>/session/", views.widget_session, name="widget-session"),
    path("widget/<str:source_name>/reports/", views.widget_report, name="widget-report"),
]
