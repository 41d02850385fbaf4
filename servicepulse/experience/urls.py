from django.urls import path

from servicepulse.experience import views

app_name = "experience"
urlpatterns = [
    path("", views.index, name="index"),
    path("report/", views.report, name="report"),
    path("report/pdf/", views.report_pdf_download, name="report_pdf"),
]
