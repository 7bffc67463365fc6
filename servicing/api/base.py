"""What every servicing API module shares: the permission a read needs, the
money field, the error responses and the `Idempotency-Key` parameter the
schema documents, the acting user the services are given, and body parsing.
"""

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from core.idempotency import IDEMPOTENCY_HEADER
from customers.api.customers import ErrorSerializer
from users.models import ApiKey

VIEW = "servicing.view_loan"
MODIFY = "servicing.modify_loan"
POST_PAYMENT = "servicing.post_payment"
IMPORT_FILES = "servicing.import_files"

MONEY = {"max_digits": 14, "decimal_places": 2}

READ_ERRORS = {401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
WRITE_ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}
# POSTs decorated with core.idempotency.idempotent.
IDEMPOTENT_ERRORS = {**WRITE_ERRORS, 422: ErrorSerializer}
KEY_REPLAY = (
    " With an `Idempotency-Key` header, a retry with the same key and body returns the "
    "first result (200, header `Idempotent-Replayed: true`) and writes nothing; the same "
    "key with a different body answers 422 `idempotency_key_reused`. Keys are per caller; "
    "a failed request stores nothing, so its key may be retried."
)


def key_parameter(required: bool, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name=IDEMPOTENCY_HEADER,
        type=OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        required=required,
        description=description,
    )


KEY_PARAMETER = key_parameter(
    False, "Optional, per caller (max 100 printable characters): a retry returns the first result."
)


def acting_user(request):
    """The staff user for the services' permission checks; None for an API
    key, which ApiAccess already authorised by its scope."""
    if isinstance(request.auth, ApiKey):
        return None
    return request.user


def parse(serializer_class, request, extra_errors: dict | None = None) -> dict:
    """Validated body, or one 400 listing the body's and `extra_errors` (e.g.
    a header's) errors (the exception handler flattens nested fields to
    dotted names)."""
    serializer = serializer_class(data=request.data)
    if serializer.is_valid() and not extra_errors:
        return serializer.validated_data
    raise serializers.ValidationError({**serializer.errors, **(extra_errors or {})})


def money_field(**kwargs):
    return serializers.DecimalField(**MONEY, **kwargs)


def amount_field(**kwargs):
    """A positive amount in whole cents (an input)."""
    return serializers.DecimalField(
        **MONEY, min_value=Decimal("0.01"), help_text="Whole cents.", **kwargs
    )
