from django.urls import path

from onboarding.views import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
]
