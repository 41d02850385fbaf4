from django.urls import path

from servicepulse.accounts import views

app_name = "accounts"
urlpatterns = [
    path("users/", views.people, name="people"),
    path("users/new/", views.person_add, name="person-add"),
    path("users/<int:user_id>/", views.person_detail, name="person"),
]
