"""Origination REST API, the sanctions review (services.kyc): the screening
hits awaiting a person's decision, clearing or confirming one, and
screening an application again (after a screening that found no sanctions
list).

Access: staff sessions need origination.review_compliance (as the staff
compliance pages); API keys need `applications:read` / `applications:write`,
and the key's user the same role permission (the services check it).
Confirming a hit declines its application where the state allows, in the
same transaction (underwriting.confirm_hit).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.exceptions import NotFound, PermissionDenied
from customers.api.customers import ErrorSerializer
from origination.api.applications import (
    READ_ERRORS,
    TRANSITION_KEY,
    VIEW,
    WRITE_ERRORS,
    ApplicationView,
    idempotency_key,
    parse,
)
from origination.models import Application, SanctionsHit
from origination.selectors import kyc as selectors_kyc
from origination.selectors.applications import get_application
from origination.services import kyc
from origination.services.underwriting import confirm_hit, sanctions_blockers

REVIEW = kyc.REVIEW_PERMISSION


def _require_review(user) -> None:
    """The key's user (sessions are checked by ApiAccess too) must review compliance."""
    if not user.has_perm(REVIEW):
        raise PermissionDenied("Your role may not review sanctions hits.", code="not_allowed")


# --- serializers -----------------------------------------------------------------------------


class MatchedEntrySerializer(serializers.Serializer):
    ent_num = serializers.IntegerField(help_text="The SDN entry number.")
    name = serializers.CharField(help_text="The entry's published name.")
    matched_name = serializers.CharField(help_text="The name or alias that scored best.")
    matched_alias = serializers.BooleanField()
    score = serializers.FloatField(help_text="0-100.")
    kind = serializers.CharField()
    programs = serializers.ListField(child=serializers.CharField())
    dob_result = serializers.CharField()
    disposition = serializers.CharField(help_text="A hint for the reviewer, never a decision.")


class HitApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    state = serializers.CharField()


class HitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="potential_match, cleared or confirmed.")
    subject_name = serializers.CharField(help_text="The name(s) screened.")
    subject_date_of_birth_masked = serializers.CharField(
        help_text='The date of birth screened, month and day hidden ("••/••/1965"); the full '
        "date comes only from the customer's audited reveal."
    )
    customer_id = serializers.IntegerField()
    customer_number = serializers.CharField()
    score = serializers.DecimalField(max_digits=5, decimal_places=1, help_text="Top score.")
    matched_entry = MatchedEntrySerializer(help_text="The best-scoring SDN entry.")
    match_count = serializers.IntegerField()
    application = HitApplicationSerializer(allow_null=True)
    sanctions_list = serializers.CharField(help_text="The list's source and digest.")
    screened_at = serializers.DateTimeField()
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()


def hit_body(hit: SanctionsHit, apps: dict[int, Application] | None = None) -> dict:
    apps = selectors_kyc.applications_of([hit]) if apps is None else apps
    app = apps.get(hit.application_id)
    best = hit.matches[0] if hit.matches else {}
    return {
        "id": hit.pk,
        "status": hit.status,
        "subject_name": hit.screened_name,
        "subject_date_of_birth_masked": hit.screened_dob_masked,
        "customer_id": hit.customer_id,
        "customer_number": hit.customer.customer_number,
        "score": hit.top_score,
        "matched_entry": {k: best.get(k) for k in MatchedEntrySerializer._declared_fields},
        "match_count": len(hit.matches),
        "application": (
            {"id": app.pk, "reference": app.reference, "state": app.state} if app else None
        ),
        "sanctions_list": f"{hit.sanctions_list.source} {hit.sanctions_list.sha256[:12]}",
        "screened_at": hit.created_at,
        "decided_by": str(hit.decided_by) if hit.decided_by_id else None,
        "decided_at": hit.decided_at,
        "decision_reason": hit.decision_reason,
    }


def _hit_response(hit_id: int) -> Response:
    hit = selectors_kyc.hit_for_review(hit_id)
    return Response(HitSerializer(hit_body(hit)).data)


# --- hits ------------------------------------------------------------------------------------


class HitFilter(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=100, help_text="Name or customer number.")
    min_score = serializers.DecimalField(
        max_digits=4, decimal_places=1, min_value=0, max_value=100, required=False
    )


class ComplianceView(ApplicationView):
    required_permissions = {"*": (REVIEW,)}


class HitListView(ComplianceView, GenericAPIView):
    serializer_class = HitSerializer
    filter_backends: list = []

    @extend_schema(
        operation_id="compliance_hits_list",
        summary="List the open sanctions screening hits",
        description=(
            "Hits awaiting a person's decision, oldest first; paginated (`page`, "
            "`page_size` up to 200). Needs origination.review_compliance."
        ),
        tags=["compliance"],
        parameters=[HitFilter],
        responses={200: HitSerializer(many=True), 400: ErrorSerializer, **READ_ERRORS},
    )
    def get(self, request):
        _require_review(request.user)
        filters = HitFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        hits = selectors_kyc.compliance_hits(
            status=SanctionsHit.Status.POTENTIAL_MATCH,
            q=(f.get("q") or "").strip(),
            min_score=f.get("min_score"),
        )
        page = self.paginate_queryset(hits)
        apps = selectors_kyc.applications_of(page)
        return self.get_paginated_response(
            HitSerializer([hit_body(h, apps) for h in page], many=True).data
        )


class DecisionInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, help_text="What you checked and why: this is the compliance record."
    )


def _decision_schema(operation_id: str, summary: str, description: str):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        tags=["compliance"],
        parameters=[TRANSITION_KEY],
        request=DecisionInput,
        responses={200: HitSerializer, **WRITE_ERRORS},
    )


class _DecisionView(ComplianceView):
    decide = staticmethod(kyc.clear_hit)

    def post(self, request, pk: int):
        hit = selectors_kyc.hit_by_pk(pk)
        if hit is None:
            raise NotFound(f"No screening hit {pk}.")
        data = parse(DecisionInput, request)
        self.decide(hit=hit, acting_user=request.user, reason=data["reason"])
        return _hit_response(pk)


class HitClearView(_DecisionView):
    decide = staticmethod(kyc.clear_hit)

    @_decision_schema(
        "compliance_hits_clear",
        "Clear a hit as a false positive",
        "Needs a reason (400 `reason_required`, nothing written) and "
        "origination.review_compliance (403); a decided hit answers 409 `already_decided`.",
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class HitConfirmView(_DecisionView):
    decide = staticmethod(confirm_hit)

    @_decision_schema(
        "compliance_hits_confirm",
        "Confirm a hit as a true sanctions match",
        "Same rules as clearing. In the same transaction the hit's application, if its "
        "state allows, is declined (reason SANCTIONS_MATCH, with an adverse action notice); "
        "otherwise the confirmed hit keeps blocking its approval.",
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


# --- screening again -------------------------------------------------------------------------


class ScreeningSerializer(serializers.Serializer):
    application = HitApplicationSerializer()
    hits = HitSerializer(many=True, help_text="Open hits found (empty: nothing resembles them).")
    sanctions_blockers = serializers.ListField(
        child=serializers.CharField(), help_text="What still stops approval on sanctions grounds."
    )


class ScreenView(ComplianceView):
    required_permissions = {"*": (VIEW, REVIEW)}

    @extend_schema(
        operation_id="applications_screen",
        summary="Screen the applicant and co-applicant against the sanctions list again",
        description=(
            "For an application whose screening was unavailable (no list imported). "
            "Still no list: 422 `no_sanctions_list`, nothing written. Needs "
            "origination.review_compliance."
        ),
        tags=["compliance"],
        parameters=[TRANSITION_KEY],
        request=None,
        responses={200: ScreeningSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        idempotency_key(request)
        hits = kyc.screen_application(application=app, acting_user=request.user)
        app.refresh_from_db()
        apps = {app.pk: app}
        hits = selectors_kyc.hits_for_review([h.pk for h in hits])
        body = {
            "application": {"id": app.pk, "reference": app.reference, "state": app.state},
            "hits": [hit_body(h, apps) for h in hits],
            "sanctions_blockers": sanctions_blockers(app),
        }
        return Response(ScreeningSerializer(body).data)
