"""Servicing REST API, modifications: preview, propose, list, approve, reject.

Views parse, call servicing.services.modifications, format. API keys need
`loans:write` for every POST (the preview too: it writes nothing, but it is
the first step of a modification) and `loans:read` for the list. Staff
sessions need servicing.view_loan plus modify_loan or approve_modification.
The services get no acting user from an API key (user=None: the key was
authorised by its scope), so an API key may propose a modification but never
approve or reject one: the four-eyes rule wants a person (403).

Approve and reject answer 409 when repeated. Proposals honour an optional
`Idempotency-Key` (core.idempotency): a retry with the same key and body
returns the first result (200, header `Idempotent-Replayed: true`), the
same key with another body answers 422 `idempotency_key_reused`; keys are per caller.
"""

from decimal import Decimal

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotent
from servicing.api.base import (
    IDEMPOTENT_ERRORS,
    KEY_PARAMETER,
    KEY_REPLAY,
    MODIFY,
    MONEY,
    READ_ERRORS,
    VIEW,
    WRITE_ERRORS,
    acting_user,
    parse,
)
from servicing.api.boarding import percent_to_fraction
from servicing.api.loans import (
    rate_percent,
)
from servicing.selectors.loans import get_loan
from servicing.selectors.modifications import (
    get_modification,
    loan_modification_rows,
    modification_row,
)
from servicing.services import modifications

APPROVE = "servicing.approve_modification"

# --- modifications -------------------------------------------------------------------------


class ModificationInputSerializer(serializers.Serializer):
    effective_date = serializers.DateField(
        help_text="From the disbursement date to today's business date."
    )
    annual_rate = serializers.DecimalField(
        max_digits=8,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=Decimal("99.9999"),
        required=False,
        allow_null=True,
        help_text='New nominal annual rate in percent, e.g. "6.5"; omit to keep the rate.',
    )
    remaining_term = serializers.IntegerField(
        min_value=1,
        max_value=600,
        required=False,
        allow_null=True,
        help_text="Instalments from the effective date; omit to keep those not yet due.",
    )
    next_due_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The first new due date; omit to keep the schedule's next due date.",
    )
    capitalise_interest = serializers.BooleanField(
        default=False, help_text="Add accrued unpaid interest to the principal."
    )
    defer_installments = serializers.IntegerField(
        min_value=0, max_value=12, default=0, help_text="A payment holiday of 0 to 12 instalments."
    )
    waive_fee_event_id = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="A fee event still owed, waived as part of the modification.",
    )


class ModificationProposalSerializer(ModificationInputSerializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def service_kwargs(data: dict) -> dict:
    """The parsed body as the modification services take it (rate as a fraction)."""
    rate = data.get("annual_rate")
    return {
        "effective_date": data["effective_date"],
        "annual_rate": None if rate is None else percent_to_fraction(rate),
        "remaining_term": data.get("remaining_term"),
        "next_due_date": data.get("next_due_date"),
        "capitalise_interest": data["capitalise_interest"],
        "defer_installments": data["defer_installments"],
        "waive_fee_event_id": data.get("waive_fee_event_id"),
    }


class ScheduleRowSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    principal = serializers.DecimalField(**MONEY)
    interest = serializers.DecimalField(**MONEY)
    fees = serializers.DecimalField(**MONEY, help_text="Fees and penalties.")
    total = serializers.DecimalField(**MONEY)
    paid = serializers.DecimalField(**MONEY)
    status = serializers.CharField()


class ScheduleSideSerializer(serializers.Serializer):
    annual_rate = serializers.DecimalField(max_digits=8, decimal_places=4, help_text="Percent.")
    installment = serializers.DecimalField(**MONEY, allow_null=True)
    remaining = serializers.DecimalField(
        **MONEY, help_text="Sum still owed on every instalment, due or not."
    )
    rows = ScheduleRowSerializer(many=True)


class ModificationPreviewSerializer(serializers.Serializer):
    old = ScheduleSideSerializer(help_text="The schedule as it stands.")
    new = ScheduleSideSerializer(help_text="The schedule with the modification.")
    capitalised_interest = serializers.DecimalField(**MONEY)
    carried_interest = serializers.DecimalField(**MONEY)
    waived_fee = serializers.DecimalField(**MONEY)
    impact = serializers.DecimalField(
        **MONEY,
        help_text="max(|new remaining - old remaining|, capitalised interest): what the "
        "approval limit is compared with.",
    )
    limit = serializers.DecimalField(**MONEY, help_text="The product's approval limit.")
    requires_approval = serializers.BooleanField(
        help_text="Above the limit: a proposal waits for a second person."
    )


def _side(rate, installment, remaining, rows) -> dict:
    return {
        "annual_rate": rate_percent(rate),
        "installment": installment,
        "remaining": remaining,
        "rows": rows,
    }


def preview_body(preview) -> dict:
    return ModificationPreviewSerializer(
        {
            "old": _side(
                preview.old_rate, preview.old_installment, preview.old_remaining, preview.old_rows
            ),
            "new": _side(
                preview.new_rate, preview.new_installment, preview.new_remaining, preview.new_rows
            ),
            "capitalised_interest": preview.capitalised_interest,
            "carried_interest": preview.carried_interest,
            "waived_fee": preview.waived_fee,
            "impact": preview.impact,
            "limit": preview.limit,
            "requires_approval": preview.requires_approval,
        }
    ).data


class ModificationParametersSerializer(serializers.Serializer):
    effective_date = serializers.DateField()
    annual_rate = serializers.DecimalField(
        max_digits=8, decimal_places=4, allow_null=True, help_text="Percent; null keeps the rate."
    )
    remaining_term = serializers.IntegerField(allow_null=True)
    next_due_date = serializers.DateField(allow_null=True)
    capitalise_interest = serializers.BooleanField()
    defer_installments = serializers.IntegerField()
    waive_fee_event_id = serializers.IntegerField(allow_null=True)


class ModificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    status = serializers.CharField(help_text="proposed, approved, rejected or applied.")
    effective_date = serializers.DateField()
    parameters = ModificationParametersSerializer()
    impact = serializers.DecimalField(**MONEY)
    requires_approval = serializers.BooleanField()
    note = serializers.CharField()
    proposed_by = serializers.CharField(
        allow_null=True, help_text="Username; null when proposed with an API key."
    )
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField()
    event_id = serializers.IntegerField(
        allow_null=True, help_text="The modification event once applied."
    )
    created_at = serializers.DateTimeField()


def _modification_item(row: dict) -> dict:
    params = dict(row["parameters"])
    if params.get("annual_rate") is not None:
        params["annual_rate"] = rate_percent(Decimal(params["annual_rate"]))
    return {
        **row,
        "parameters": params,
        "proposed_by": row["proposed_by__username"],
        "decided_by": row["decided_by__username"],
    }


def modification_body(modification_id: int) -> dict:
    return ModificationSerializer(_modification_item(modification_row(modification_id))).data


MODIFICATION_EXAMPLE = OpenApiExample(
    "Extend to 22 instalments",
    value={"effective_date": "2026-02-15", "remaining_term": 22},
    request_only=True,
)


class ModificationPreviewView(APIView):
    # Writes nothing, but it is the first step of a modification: loans:write,
    # as the staff side needs servicing.modify_loan.
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, MODIFY)}

    @extend_schema(
        operation_id="loans_modifications_preview",
        summary="Preview a modification",
        description=(
            "The schedule as it stands and with the modification, their totals, the impact "
            "and whether a proposal would wait for approval. Writes nothing. The annual rate "
            "is in percent. Invalid terms answer 400, a loan that is not active 409."
        ),
        tags=["loans"],
        request=ModificationInputSerializer,
        responses={200: ModificationPreviewSerializer, **WRITE_ERRORS},
        examples=[MODIFICATION_EXAMPLE],
    )
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = parse(ModificationInputSerializer, request, {})
        preview = modifications.preview_modification(loan=loan, **service_kwargs(data))
        return Response(preview_body(preview))


class ModificationListCreateView(APIView):
    api_scope = "loans"
    required_permissions = {"GET": (VIEW,), "POST": (VIEW, MODIFY)}

    @extend_schema(
        operation_id="loans_modifications_list",
        summary="List modifications",
        description="The loan's modifications, newest first, whatever their status.",
        tags=["loans"],
        responses={200: ModificationSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, pk: int):
        loan = get_loan(pk)
        rows = loan_modification_rows(loan)
        return Response(ModificationSerializer(map(_modification_item, rows), many=True).data)

    @extend_schema(
        operation_id="loans_modifications_create",
        summary="Propose a modification",
        description=(
            "Stores the modification. Within the product's approval limit it is applied at "
            "once (status `applied`); above it, it waits (status `proposed`) for another "
            "person holding servicing.approve_modification. Invalid terms answer 400, a loan "
            "that is not active 409; nothing is written on any error." + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=ModificationProposalSerializer,
        responses={201: ModificationSerializer, 200: ModificationSerializer, **IDEMPOTENT_ERRORS},
        examples=[MODIFICATION_EXAMPLE],
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = parse(ModificationProposalSerializer, request, {})
        mod = modifications.propose_modification(
            loan=loan, user=acting_user(request), note=data["note"], **service_kwargs(data)
        )
        return Response(modification_body(mod.pk), status=status.HTTP_201_CREATED)


class RejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why it is rejected.")


DECIDE_DESCRIPTION = (
    " Only a person (a staff session) holding servicing.approve_modification may decide, "
    "never the proposer (403 `four_eyes`); an API key answers 403. A modification already "
    "decided answers 409 `already_decided`."
)


class ModificationApproveView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, APPROVE)}

    @extend_schema(
        operation_id="modifications_approve",
        summary="Approve a modification",
        description="Approves a waiting modification and applies it." + DECIDE_DESCRIPTION,
        tags=["loans"],
        request=None,
        responses={200: ModificationSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        mod = get_modification(pk)
        modifications.approve_modification(modification=mod, user=acting_user(request))
        return Response(modification_body(mod.pk))


class ModificationRejectView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, APPROVE)}

    @extend_schema(
        operation_id="modifications_reject",
        summary="Reject a modification",
        description="Rejects a waiting modification with a reason." + DECIDE_DESCRIPTION,
        tags=["loans"],
        request=RejectInputSerializer,
        responses={200: ModificationSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "Income not verified", value={"reason": "Income not verified"}, request_only=True
            )
        ],
    )
    def post(self, request, pk: int):
        mod = get_modification(pk)
        data = parse(RejectInputSerializer, request, {})
        modifications.reject_modification(
            modification=mod, user=acting_user(request), reason=data["reason"]
        )
        return Response(modification_body(mod.pk))


api_patterns = [
    path(
        "loans/<int:pk>/modifications/preview/",
        ModificationPreviewView.as_view(),
        name="loans-api-modification-preview",
    ),
    path(
        "loans/<int:pk>/modifications/",
        ModificationListCreateView.as_view(),
        name="loans-api-modifications",
    ),
    path(
        "modifications/<int:pk>/approve/",
        ModificationApproveView.as_view(),
        name="modifications-api-approve",
    ),
    path(
        "modifications/<int:pk>/reject/",
        ModificationRejectView.as_view(),
        name="modifications-api-reject",
    ),
]
