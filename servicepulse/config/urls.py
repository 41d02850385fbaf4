"""Root URLs. Each app owns its own `urls.py`; add it here once."""

from django.contrib import admin
from django.urls import include, path

from servicepulse.core.views import health

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("servicepulse.accounts.urls")),  # the Users page; sign-in is allauth's
    path("accounts/", include("allauth.urls")),
    path("status/", include("servicepulse.status.urls")),
    path("blog/", include("servicepulse.blog.urls")),
    path("xmlrpc/", include("servicepulse.blog.xmlrpc_urls")),
    path("inbox/", include("servicepulse.engage.urls")),
    path("incidents/", include("servicepulse.incidents.urls")),
    path("sources/", include("servicepulse.sources.urls")),
    path("experience/", include("servicepulse.experience.urls")),
    path("publish/", include("servicepulse.publish.urls")),
    path("", include("servicepulse.dashboard.urls")),
]
