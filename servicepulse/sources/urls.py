from django.urls import path

from servicepulse.sources import views

app_name = "sources"
urlpatterns = [
    path("hooks/<str:source_name>/", views.webhook, name="webhook"),
]
