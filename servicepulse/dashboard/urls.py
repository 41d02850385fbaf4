from django.urls import path

from servicepulse.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.board, name="board"),
]
