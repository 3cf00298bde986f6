from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("onboarding.urls")),
]

handler400 = "onboarding.views.errors.bad_request"
handler404 = "onboarding.views.errors.not_found"
handler500 = "onboarding.views.errors.server_error"
