"""Servicing REST API, statements: the list of a loan's statements.

API keys need `loans:read`; staff sessions need servicing.view_loan.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from servicing.api.base import (
    MONEY,
    READ_ERRORS,
    VIEW,
)
from servicing.selectors.loans import get_loan
from servicing.selectors.statements import loan_statement_rows

# --- statements ---------------------------------------------------------------------------


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class StatementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    statement_date = serializers.DateField()
    period = PeriodSerializer()
    amount_due = serializers.DecimalField(**MONEY)
    due_date = serializers.DateField(allow_null=True)
    sha256 = serializers.CharField()


class StatementListView(APIView):
    api_scope = "loans"
    required_permissions = {"GET": (VIEW,)}

    @extend_schema(
        operation_id="loans_statements_list",
        summary="List statements",
        description="The loan's statements, newest first (the PDFs are not included).",
        tags=["loans"],
        responses={200: StatementSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = get_loan(pk)
        rows = loan_statement_rows(loan)
        body = [
            {
                "id": row["id"],
                "statement_date": row["statement_date"].isoformat(),
                "period": {
                    "start": row["period_start"].isoformat(),
                    "end": row["period_end"].isoformat(),
                },
                "amount_due": str(row["amount_due"]),
                "due_date": row["due_date"].isoformat() if row["due_date"] else None,
                "sha256": row["sha256"],
            }
            for row in rows
        ]
        return Response(body)


api_patterns = [
    path("loans/<int:pk>/statements/", StatementListView.as_view(), name="loans-api-statements"),
]
