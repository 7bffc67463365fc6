# ruff: noqa: F811 (pytest fixtures imported from test_applications are used as arguments)
"""origination.selectors: portal access to an application, the pipeline
counts per state and the pipeline metrics, on PostgreSQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import NotFound
from origination.models import Application, ApplicationState
from origination.selectors import pipeline, portal
from tests.origination.test_applications import _fast_passwords, ada, draft, person, product  # noqa: F401

pytestmark = pytest.mark.django_db

S = ApplicationState


def test_portal_access_and_pipeline_counts(ada, product):
    app = draft(ada, product)
    other = person("406-78-1234", first="Grace", last="Hopper")
    assert portal.get_application_for_customer(ada, app.pk).pk == app.pk
    with pytest.raises(NotFound):
        portal.get_application_for_customer(other, app.pk)
    counts = pipeline.pipeline_counts()
    assert counts["draft"] == 1 and counts["approved"] == 0
    assert len(counts) == len(S.values)


def test_application_metrics(ada, product):
    a = draft(ada, product)
    b = draft(ada, product)
    now = timezone.now()
    Application.objects.filter(pk=a.pk).update(
        submitted_at=now, decided_at=now + timedelta(seconds=2)
    )
    Application.objects.filter(pk=b.pk).update(
        submitted_at=now,
        decided_at=now + timedelta(seconds=4),
        funded_at=now + timedelta(hours=20),
    )
    metrics = pipeline.application_metrics()
    assert metrics["decided"] == 2
    assert metrics["time_to_decision_median"] == timedelta(seconds=3)
    assert metrics["time_to_decision_p95"] == timedelta(seconds=4)
    assert (metrics["funded"], metrics["time_to_fund_median"]) == (1, timedelta(hours=20))
