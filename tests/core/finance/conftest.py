"""The loan math engine's tests need neither Django nor a database.

tests/conftest.py registers autouse fixtures that touch Django settings and
the cache; these no-op overrides keep the engine tests free of both when
pytest-django is active. No test here requests the `db` fixture.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

# Modest by default so the module runs in a few seconds; set
# FINANCE_HYPOTHESIS_PROFILE=finance-deep for a long search.
settings.register_profile(
    "finance", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "finance-deep", max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("FINANCE_HYPOTHESIS_PROFILE", "finance"))


@pytest.fixture(autouse=True)
def _email_locmem():
    yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    yield
