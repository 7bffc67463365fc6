"""Servicing REST API, imports: the payment and boarding CSV files.

Views parse the upload, call servicing.services.imports, format. API keys
need `loans:write`; staff sessions need servicing.import_files (payments
also post_payment, as the staff page). Imports are idempotent on each row's
natural key (payments) or origination reference (boarding), so a file sent
twice posts and boards nothing twice.
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotency_key
from customers.api.customers import ErrorSerializer
from servicing.api.base import IMPORT_FILES, VIEW, key_parameter
from servicing.services import imports

MAX_UPLOAD = 20 * 1024 * 1024  # as the staff upload page

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
            key_parameter(False, "Optional: every row carries its own natural key."),
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
    path("imports/payments/", PaymentsImportView.as_view(), name="imports-api-payments"),
    path("imports/boarding/", BoardingImportView.as_view(), name="imports-api-boarding"),
]
