"""The portal's URLs plus the benchmark's two floor pages (bench.settings only)."""

from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/floor/", views.framework_floor, name="bench-framework-floor"),
    path("bench/form-floor/", views.form_floor, name="bench-form-floor"),
    path("", include("portal.urls")),
]

handler404 = "onboarding.views.errors.not_found"
handler500 = "onboarding.views.errors.server_error"
