"""The `Idempotency-Key` header for API POSTs: a retry returns the first answer.

Decorate an APIView's `post` with `@idempotent`. Without the header the view
runs as before. With it:

- a key this caller (API key or staff user) already used for the same
  request (method, path and parsed body) returns the stored answer: 200, the
  first body, header `Idempotent-Replayed: true`;
- the same key with a different request answers 422 `idempotency_key_reused`
  and does nothing;
- otherwise one transaction inserts the record first, runs the view and
  stores its answer. A concurrent repeat blocks on the record's unique index
  until that transaction ends, then replays the stored answer. A non-2xx
  answer or an exception rolls the record back with the work, so the client
  may retry the same key with a corrected request.

Payments keep their own key on Payment (servicing.services.payments); this
module holds the header's parsing, which they share.

Records are kept `RETENTION_DAYS`; `purge_idempotency_records()` deletes
older ones (a key retried after that runs again). It runs as the last
end-of-day step (`purge_idempotency_records`, registered by CoreConfig).
"""

import functools
import hashlib
import json
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.exceptions import DomainError
from core.models import IdempotencyRecord

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION_DAYS = 30
_KEY_RE = re.compile(r"[\x21-\x7e]{1,100}")  # printable ASCII, no spaces; fits the column


class IdempotencyKeyReused(DomainError):
    """The key was used before, by this caller, for a different request (HTTP 422)."""

    status_code = 422
    default_code = "idempotency_key_reused"


def idempotency_key(request, *, required: bool) -> tuple[str | None, dict]:
    """The request's Idempotency-Key and any error about it ({header: [msg]})."""
    raw = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    if not raw:
        if required:
            return None, {
                IDEMPOTENCY_HEADER: [
                    "This header is required: send a new unique key (e.g. a UUID) per payment "
                    "and the same key when you retry it."
                ]
            }
        return None, {}
    if not _KEY_RE.fullmatch(raw):
        return None, {
            IDEMPOTENCY_HEADER: ["Use 1 to 100 printable ASCII characters without spaces."]
        }
    return raw, {}


def principal_of(request) -> str:
    """Whose keys these are: the API key when one authenticated the request,
    else the user (a staff session)."""
    auth = getattr(request, "auth", None)
    meta = getattr(auth, "_meta", None)
    if meta is not None and getattr(auth, "pk", None) is not None:
        return f"{meta.label_lower}:{auth.pk}"
    return f"user:{request.user.pk}"


def _canonical(data):
    if hasattr(data, "lists"):  # a QueryDict (form or multipart body)
        return dict(data.lists())
    return data


def request_fingerprint(request) -> str:
    """SHA-256 of the method, path and parsed body (keys sorted). A body no
    parser of the view takes is left to the view: one that reads its body
    answers 415 (nothing stored), one that reads none (a bodiless action)
    runs as without a key."""
    try:
        body = _canonical(request.data)
    except exceptions.UnsupportedMediaType:
        body = {"unparsed": request.content_type}
    payload = {"method": request.method, "path": request.path, "body": body}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(record: IdempotencyRecord, scope: str, fingerprint: str) -> Response:
    if record.scope != scope or record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request.",
            fields={IDEMPOTENCY_HEADER: ["Use a new key for a new request."]},
        )
    return Response(
        record.response_body, status=status.HTTP_200_OK, headers={REPLAYED_HEADER: "true"}
    )


class _Discard(Exception):
    """Carries a non-2xx answer out of the transaction, rolling the record back."""

    def __init__(self, response):
        super().__init__()
        self.response = response


def run_idempotent(request, scope: str, view):
    """Answer `view()` once per (caller, key); see the module docstring."""
    key, errors = idempotency_key(request, required=False)
    if errors:
        raise serializers.ValidationError(errors)
    if key is None or not request.user.is_authenticated:
        return view()
    principal, fingerprint = principal_of(request), request_fingerprint(request)
    lookup = IdempotencyRecord.objects.filter(principal=principal, key=key)
    existing = lookup.first()
    if existing is not None:
        return _replay(existing, scope, fingerprint)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        principal=principal, key=key, scope=scope, fingerprint=fingerprint
                    )
            except IntegrityError:
                # A concurrent request with this key committed first (we
                # waited on the unique index for it): answer as it did.
                existing = lookup.first()
                if existing is None:
                    raise
                return _replay(existing, scope, fingerprint)
            response = view()
            if not status.is_success(response.status_code):
                raise _Discard(response)
            record.response_status = response.status_code
            # As the client received it (Decimals and dates already rendered).
            record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
            record.save(update_fields=["response_status", "response_body"])
    except _Discard as discarded:
        return discarded.response
    return response


def idempotent(post):
    """Decorate an APIView's `post` to honour the Idempotency-Key header; the
    scope recorded is the view class."""

    @functools.wraps(post)
    def wrapper(self, request, *args, **kwargs):
        view_class = type(self)
        scope = f"{view_class.__module__}.{view_class.__qualname__}"
        return run_idempotent(request, scope, lambda: post(self, request, *args, **kwargs))

    return wrapper


def purge_idempotency_records(*, days: int = RETENTION_DAYS) -> int:
    """Delete records older than `days`; returns how many."""
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def purge_step(business_date, chunk) -> dict:
    """End-of-day step (core.eod): one chunk, deletes records past retention."""
    return {"purged": purge_idempotency_records()}
