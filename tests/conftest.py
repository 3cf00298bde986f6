"""Fixtures for the real services the suite talks to."""

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser(
        "staff", "staff@provider.test", "correct horse battery staple"
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
