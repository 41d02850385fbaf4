"""Mounted at /xmlrpc/ by the root URLconf: the Pingback 1.0 XML-RPC server."""

from django.urls import path

from servicepulse.blog import views

urlpatterns = [path("", views.xmlrpc, name="xmlrpc")]
