from django.urls import path

from servicepulse.dashboard.views import alerts, board, catalog, incidents, mentions, sources

app_name = "dashboard"
urlpatterns = [
    path("", board.board, name="board"),
    path("services/<slug:service_id>/", board.service_detail, name="service"),
    path("incidents/", incidents.incident_list, name="incidents"),
    path("incidents/open/", incidents.incident_open, name="incident-open"),
    path("incidents/export.csv", incidents.incident_export, name="incidents-export"),
    path("incidents/<int:pk>/", incidents.incident_detail, name="incident"),
    path("incidents/<int:pk>/act/", incidents.incident_act, name="incident-act"),
    path("mentions/", mentions.explorer, name="mentions"),
    path("mentions/export.csv", mentions.export, name="mentions-export"),
    path("mentions/relabel/", mentions.relabel, name="relabel"),
    path("mentions/<int:mention_id>/revert/", mentions.relabel_revert, name="relabel-revert"),
    path("catalog/", catalog.catalog, name="catalog"),
    path("catalog/new/", catalog.catalog_add, name="catalog-add"),
    path("catalog/<slug:service_id>/", catalog.catalog_edit, name="catalog-edit"),
    path("catalog/<slug:service_id>/delete/", catalog.catalog_delete, name="catalog-delete"),
    path("sources/", sources.sources, name="sources"),
    path("sources/add/", sources.source_add, name="source-add"),
    path("sources/<int:pk>/", sources.source_detail, name="source"),
    path("sources/<int:pk>/edit/", sources.source_edit, name="source-edit"),
    path("sources/<int:pk>/quarantine/discard/", sources.source_quarantine_discard, name="source-discard"),
    path("sources/<int:pk>/remove/", sources.source_delete, name="source-remove"),
    path("sources/<int:pk>/toggle/", sources.source_toggle, name="source-toggle"),
    path("sources/<int:pk>/sync/", sources.source_sync_now, name="source-sync"),
    path("alerts/", alerts.alert_rules, name="alerts"),
]
