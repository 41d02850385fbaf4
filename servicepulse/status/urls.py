from django.urls import path

from servicepulse.status import views
from servicepulse.status.feeds import StatusAtomFeed

app_name = "status"
urlpatterns = [
    path("", views.page, name="page"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("maintenance/<int:pk>/", views.maintenance_detail, name="maintenance"),
    path("feed/", StatusAtomFeed(), name="feed"),
    path("summary.json", views.summary_json, name="summary"),
    path("badge/<slug:service_id>.svg", views.badge, name="badge"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", views.subscribe_confirm, name="subscribe_confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("manage/", views.manage, name="manage"),
    path("manage/incidents/new/", views.manage_incident_new, name="manage_incident_new"),
    path("manage/incidents/<int:pk>/", views.manage_incident, name="manage_incident"),
    path("manage/maintenance/new/", views.manage_maintenance_new, name="manage_maintenance_new"),
    path(
        "manage/maintenance/<int:pk>/cancel/",
        views.manage_maintenance_cancel,
        name="manage_maintenance_cancel",
    ),
    path("manage/from-incident/<int:incident_id>/", views.publish_detected, name="publish_detected"),
]
