from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Meet interop onboarding"
admin.site.site_title = "Meet interop onboarding"
admin.site.index_title = "Tenants and gateways"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("onboarding.urls")),
]

handler404 = "onboarding.views.errors.not_found"
handler500 = "onboarding.views.errors.server_error"
