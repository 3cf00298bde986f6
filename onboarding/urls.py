from django.urls import path

from onboarding.views import dns_status, feed, health, upload

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("upload/<str:signed>/", upload.upload, name="upload"),
    path("upload/<str:signed>/new-link/", upload.request_new_link, name="upload-new-link"),
    path("dns-status/<str:signed>/", dns_status.dns_status, name="dns-status"),
    path("api/gateway/v1/config", feed.gateway_config, name="gateway-config"),
    path("api/gateway/v1/openapi.yaml", feed.openapi_description, name="gateway-openapi"),
]
