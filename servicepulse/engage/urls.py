from django.urls import path

from servicepulse.engage import views

app_name = "engage"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("times/", views.response_times_page, name="times"),
    path("bulk/", views.bulk, name="bulk"),
    path("m/<int:mention_id>/", views.item, name="item"),
    path("saved/", views.saved_replies, name="saved"),
    path("saved/<int:pk>/delete/", views.saved_reply_delete, name="saved_delete"),
    path("loop/<int:incident_id>/", views.loop, name="loop"),
]
