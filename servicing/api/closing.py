"""Servicing REST API, closing: close a paid-off or charged-off loan.

The view parses, calls servicing.services.closing, formats. API keys need
`loans:write`; staff sessions need servicing.view_loan and modify_loan.
Closing a closed loan returns it unchanged (200); an optional
`Idempotency-Key` (core.idempotency) replays the first result.
"""

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotent
from servicing.api.base import (
    IDEMPOTENT_ERRORS,
    KEY_PARAMETER,
    KEY_REPLAY,
    MODIFY,
    VIEW,
    acting_user,
    parse,
)
from servicing.api.loans import LoanDetailSerializer, loan_detail_body
from servicing.selectors.loans import get_loan
from servicing.services import closing

# --- closing -------------------------------------------------------------------------------


class CloseInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CloseView(APIView):
    api_scope = "loans"
    # a charged-off loan also needs charge_off_loan: the service checks it
    required_permissions = {"POST": (VIEW, MODIFY)}

    @extend_schema(
        operation_id="loans_close",
        summary="Close a loan",
        description=(
            "Closes a paid-off loan whose every balance is zero (principal, interest, fees, "
            "penalties, unapplied credit, overpayment), or a charged-off loan whose "
            "collection has ended (staff also need servicing.charge_off_loan); `closed_on` is "
            "today's business date and nothing more is accepted on the loan, recoveries "
            "included. Idempotent: a closed loan is returned unchanged. An active or overpaid "
            "loan, or a balance left, answers 409 (`loan_not_closable`, "
            "`loan_balance_remaining`: a credit balance must be refunded first); nothing is "
            "written on any error." + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=CloseInputSerializer,
        responses={200: LoanDetailSerializer, **IDEMPOTENT_ERRORS},
        examples=[
            OpenApiExample("Paid in full", value={"note": "Lien released"}, request_only=True)
        ],
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = parse(CloseInputSerializer, request, {})
        closing.close_loan(loan, acting_user=acting_user(request), note=data["note"])
        return Response(loan_detail_body(get_loan(loan.pk)))


api_patterns = [
    path("loans/<int:pk>/close/", CloseView.as_view(), name="loans-api-close"),
]
