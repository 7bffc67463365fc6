"""Origination REST API, the pipeline figures (selectors.pipeline): time to
decision and time to fund, as on the staff board's metrics page.

Access: staff sessions need origination.view_application; API keys need
`applications:read`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.businessdate import get_business_date
from customers.api.customers import ErrorSerializer
from origination.api.applications import READ_ERRORS, ApplicationView
from origination.models import ApplicationState
from origination.selectors import pipeline


class MetricsFilter(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=ApplicationState.choices, required=False, help_text="Default every state."
    )
    product = serializers.CharField(required=False, help_text="Product code (any version).")
    officer = serializers.IntegerField(required=False, help_text="Assigned user id.")


class DurationFigures(serializers.Serializer):
    count = serializers.IntegerField()
    median_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)
    p95_seconds = serializers.FloatField(allow_null=True)


class MetricsSerializer(serializers.Serializer):
    time_to_decision = DurationFigures(help_text="decided_at - submitted_at.")
    time_to_fund = DurationFigures(help_text="funded_at - submitted_at.")


def _seconds(delta) -> float | None:
    return None if delta is None else delta.total_seconds()


class MetricsView(ApplicationView):
    @extend_schema(
        operation_id="applications_metrics",
        summary="Time to decision and time to fund",
        description=(
            "From submission, over the applications matching the filters: count, median, "
            "90th and 95th percentile (nearest rank), in seconds; null when none."
        ),
        tags=["applications"],
        parameters=[MetricsFilter],
        responses={200: MetricsSerializer, 400: ErrorSerializer, **READ_ERRORS},
    )
    def get(self, request):
        filters = MetricsFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        metrics = pipeline.pipeline_metrics(
            today=get_business_date(),
            states=(f["state"],) if "state" in f else None,
            officer=f.get("officer"),
            product_code=f.get("product") or "",
        )
        body = {
            name: {
                "count": metrics[count],
                "median_seconds": _seconds(metrics[f"{name}_median"]),
                "p90_seconds": _seconds(metrics[f"{name}_p90"]),
                "p95_seconds": _seconds(metrics[f"{name}_p95"]),
            }
            for name, count in (("time_to_decision", "decided"), ("time_to_fund", "funded"))
        }
        return Response(MetricsSerializer(body).data)
