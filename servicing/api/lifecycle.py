"""Servicing REST API, a loan's lifecycle decisions: modifications (preview,
propose, list, approve, reject), charge-off and recoveries, closing, and the
payment and boarding CSV imports.

Views parse, call one service, format. API keys need `loans:write` for every
POST (the modification preview too: it writes nothing, but it is the first
step of a modification) and `loans:read` for the list. Staff sessions need
servicing.view_loan plus modify_loan, approve_modification, charge_off_loan
or import_files (payments also post_payment, as the staff page). As in life.py the
loan services get no acting user from an API key (user=None: the key was
authorised by its scope), so an API key may propose a modification but never
approve or reject one: the four-eyes rule wants a person (403).

Idempotency: approve and reject answer 409 when repeated; a charge-off of a
charged-off loan returns it unchanged (200), and so does closing a closed
loan; imports are idempotent on each row's natural key (payments) or
origination reference (boarding), so a file sent twice posts and boards
nothing twice. Proposals, charge-offs, recoveries and closings honour an
optional `Idempotency-Key` (core.idempotency): a retry with the same key and
body returns the first result (200, header `Idempotent-Replayed: true`), the
same key with another body answers 422 `idempotency_key_reused`; keys are per caller.
"""

from decimal import Decimal

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.businessdate import get_business_date
from core.exceptions import NotFound
from core.idempotency import idempotency_key, idempotent
from customers.api.customers import ErrorSerializer
from servicing.api.actions import (
    IMPORT_FILES,
    WRITE_ERRORS,
    _key_parameter,
    _parse,
    percent_to_fraction,
)
from servicing.api.life import (
    IDEMPOTENT_ERRORS,
    KEY_PARAMETER,
    KEY_REPLAY,
    LoanEventSerializer,
    acting_user,
    event_body,
)
from servicing.api.loans import (
    READ_ERRORS,
    VIEW,
    LoanDetailSerializer,
    get_loan,
    loan_detail_body,
    rate_percent,
)
from servicing.models import Modification
from servicing.services import chargeoff, closing, imports, modifications

MODIFY = "servicing.modify_loan"
APPROVE = "servicing.approve_modification"
CHARGE_OFF = "servicing.charge_off_loan"
MONEY = {"max_digits": 14, "decimal_places": 2}
MAX_UPLOAD = 20 * 1024 * 1024  # as the staff upload page


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


MODIFICATION_FIELDS = (
    "id",
    "loan_id",
    "status",
    "effective_date",
    "parameters",
    "impact",
    "requires_approval",
    "note",
    "proposed_by__username",
    "decided_by__username",
    "decided_at",
    "rejection_reason",
    "event_id",
    "created_at",
)


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
    row = Modification.objects.filter(pk=modification_id).values(*MODIFICATION_FIELDS).get()
    return ModificationSerializer(_modification_item(row)).data


def get_modification(modification_id: int) -> Modification:
    modification = Modification.objects.filter(pk=modification_id).first()
    if modification is None:
        raise NotFound(f"No modification {modification_id}.")
    return modification


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
        data = _parse(ModificationInputSerializer, request, {})
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
        rows = Modification.objects.filter(loan=loan).values(*MODIFICATION_FIELDS)
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
        data = _parse(ModificationProposalSerializer, request, {})
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
        data = _parse(RejectInputSerializer, request, {})
        modifications.reject_modification(
            modification=mod, user=acting_user(request), reason=data["reason"]
        )
        return Response(modification_body(mod.pk))


# --- charge-off and recoveries -------------------------------------------------------------


class ChargeOffInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Why the loan is written off.")


class ChargeOffView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, CHARGE_OFF)}

    @extend_schema(
        operation_id="loans_charge_off",
        summary="Charge off a loan",
        description=(
            "Writes the active loan's receivables off to charge-off expense; the loan is "
            "frozen afterwards (later cash is a recovery). Idempotent: a charged-off loan is "
            "returned unchanged. A loan in another state answers 409 `loan_not_active`; "
            "nothing is written on any error." + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=ChargeOffInputSerializer,
        responses={200: LoanDetailSerializer, **IDEMPOTENT_ERRORS},
        examples=[
            OpenApiExample("Bankruptcy", value={"reason": "Chapter 7 discharge"}, request_only=True)
        ],
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = _parse(ChargeOffInputSerializer, request, {})
        chargeoff.charge_off(loan=loan, user=acting_user(request), reason=data["reason"])
        return Response(loan_detail_body(get_loan(loan.pk)))


class RecoveryInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"), help_text="Whole cents.")
    received_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="From the charge-off date to today's business date; default today.",
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class RecoveryCreateView(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, CHARGE_OFF)}

    @extend_schema(
        operation_id="loans_recoveries_create",
        summary="Record a recovery",
        description=(
            "Cash received on a charged-off loan, booked to recovery income. A loan that is "
            "not charged off answers 409 `loan_not_charged_off`; a date outside the window "
            "400." + KEY_REPLAY
        ),
        tags=["loans"],
        parameters=[KEY_PARAMETER],
        request=RecoveryInputSerializer,
        responses={201: LoanEventSerializer, 200: LoanEventSerializer, **IDEMPOTENT_ERRORS},
        examples=[
            OpenApiExample(
                "Agency collection",
                value={"amount": "250.00", "received_on": "2026-03-20", "note": "Agency"},
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request, pk: int):
        loan = get_loan(pk)
        data = _parse(RecoveryInputSerializer, request, {})
        event = chargeoff.record_recovery(
            loan=loan,
            amount=data["amount"],
            received_on=data.get("received_on") or get_business_date(),
            user=acting_user(request),
            note=data["note"],
        )
        return Response(event_body(event), status=status.HTTP_201_CREATED)


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
        data = _parse(CloseInputSerializer, request, {})
        closing.close_loan(loan, acting_user=acting_user(request), note=data["note"])
        return Response(loan_detail_body(get_loan(loan.pk)))


# --- imports -------------------------------------------------------------------------------


class CsvParser(BaseParser):
    """A raw text/csv body, handed over as bytes (decoded by the view)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(MAX_UPLOAD + 1) if stream is not None else b""


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV file, UTF-8.")


class ImportRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line number in the file (the header is line 1).")
    # A plain string: a choice field would add a `status` enum colliding with others.
    status = serializers.CharField(help_text="accepted, duplicate or rejected.")
    item = serializers.CharField(help_text="The loan number or origination reference.")
    detail = serializers.CharField(help_text="The amount, or the boarded principal balance.")
    reason = serializers.CharField(help_text="Why rejected or skipped; blank when accepted.")
    payment_id = serializers.IntegerField(allow_null=True)
    loan_number = serializers.CharField(allow_null=True)


class ImportRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="payments or boarding.")
    filename = serializers.CharField()
    sha256 = serializers.CharField()
    rows = serializers.IntegerField()
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Rows already done: nothing posted twice.")
    rejected = serializers.IntegerField()
    results = ImportRowSerializer(many=True, help_text="Every data row, by line.")


def import_body(result) -> dict:
    run = result.run
    results = [
        {
            "line": row["line"],
            "status": row_status,
            "item": row["item"],
            "detail": row["detail"],
            "reason": row.get("reason", ""),
            "payment_id": row.get("payment_id"),
            "loan_number": row.get("loan_number"),
        }
        for row_status, part in (
            ("accepted", result.accepted),
            ("duplicate", result.duplicates),
            ("rejected", result.rejected),
        )
        for row in part
    ]
    results.sort(key=lambda row: row["line"])
    return ImportRunSerializer(
        {
            "id": run.pk,
            "kind": run.kind,
            "filename": run.filename,
            "sha256": run.sha256,
            "rows": run.rows,
            "accepted": run.accepted,
            "duplicates": run.duplicates,
            "rejected": run.rejected,
            "results": results,
        }
    ).data


def _file_error(message: str):
    return serializers.ValidationError({"file": [message]})


def upload(request) -> tuple[str, str]:
    """(text, filename) from a multipart `file` or a raw text/csv body."""
    if isinstance(request.data, bytes):
        raw, filename = request.data, request.query_params.get("filename", "")
    else:
        upload = request.FILES.get("file")
        if upload is None:
            raise _file_error("Send the CSV as the multipart field `file` or as a text/csv body.")
        if upload.size > MAX_UPLOAD:
            raise _file_error("The file is larger than 20 MB.")
        raw, filename = upload.read(), upload.name
    if len(raw) > MAX_UPLOAD:
        raise _file_error("The file is larger than 20 MB.")
    try:
        return raw.decode("utf-8-sig"), filename
    except UnicodeDecodeError:
        raise _file_error("The file is not UTF-8 text.") from None


IMPORT_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


class _ImportView(APIView):
    api_scope = "loans"
    parser_classes = [MultiPartParser, CsvParser, JSONParser]
    run_service = None

    def post(self, request):
        _key, key_errors = idempotency_key(request, required=False)
        if key_errors:
            raise serializers.ValidationError(key_errors)
        text, filename = upload(request)
        result = type(self).run_service(text=text, filename=filename, acting_user=request.user)
        return Response(import_body(result), status=status.HTTP_201_CREATED)


def _import_schema(operation_id: str, summary: str, columns: tuple[str, ...], what: str):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=(
            f"{what} Send the CSV as the multipart field `file`, or as the raw body with "
            "`Content-Type: text/csv` (optional query parameter `filename`). Columns: "
            f"{', '.join(columns)}. Each row is validated and reported by line: accepted, "
            "duplicate (already done) or rejected with its reason; good rows are processed "
            "even when others are rejected. Sending the same file again posts and boards "
            "nothing twice. A file without the required header, empty, not UTF-8 or over "
            "20 MB answers 400 and writes nothing."
        ),
        tags=["imports"],
        parameters=[
            _key_parameter(False, "Optional: every row carries its own natural key."),
            OpenApiParameter(
                "filename",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=False,
                description="The file's name, for a raw text/csv body.",
            ),
        ],
        request={"multipart/form-data": ImportUploadSerializer, "text/csv": OpenApiTypes.STR},
        responses={201: ImportRunSerializer, **IMPORT_ERRORS},
    )


class PaymentsImportView(_ImportView):
    required_permissions = {"POST": (VIEW, IMPORT_FILES, "servicing.post_payment")}
    run_service = staticmethod(imports.import_payments_csv)

    @_import_schema(
        "imports_payments",
        "Import payments (CSV)",
        imports.PAYMENT_COLUMNS,
        "Posts the payments of the file (channel batch). A row with a reference is "
        "recognised by loan, reference, date and amount. An optional `excess` column "
        "(prepayment or unapplied; blank for the product's default) says where money "
        "beyond what is due goes.",
    )
    def post(self, request):
        return super().post(request)


class BoardingImportView(_ImportView):
    required_permissions = {"POST": (VIEW, IMPORT_FILES)}
    run_service = staticmethod(imports.import_boarding_csv)

    @_import_schema(
        "imports_boarding",
        "Import loans (boarding CSV)",
        imports.BOARDING_COLUMNS,
        "Boards loans migrated from another system on their original terms (annual_rate "
        "in percent) with their paid history as one payment on the cut-over date; a row "
        "whose principal balance then differs from principal - principal_paid is rejected "
        "and rolled back whole. A reference already boarded is a duplicate.",
    )
    def post(self, request):
        return super().post(request)


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
    path("loans/<int:pk>/charge-off/", ChargeOffView.as_view(), name="loans-api-charge-off"),
    path(
        "loans/<int:pk>/recoveries/",
        RecoveryCreateView.as_view(),
        name="loans-api-recovery-create",
    ),
    path("loans/<int:pk>/close/", CloseView.as_view(), name="loans-api-close"),
    path("imports/payments/", PaymentsImportView.as_view(), name="imports-api-payments"),
    path("imports/boarding/", BoardingImportView.as_view(), name="imports-api-boarding"),
]
