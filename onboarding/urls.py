from django.urls import path

from onboarding.views import dns_status, health, upload

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("upload/<str:signed>/", upload.upload, name="upload"),
    path("upload/<str:signed>/new-link/", upload.request_new_link, name="upload-new-link"),
    path("dns-status/<str:signed>/", dns_status.dns_status, name="dns-status"),
]
