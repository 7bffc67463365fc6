"""Servicing REST API, service requests: the queue of borrowers' help
requests and the actions that work them (assign, start, resolve, decline).

Views parse, call one selector or service, format. API keys need
`loans:read` for GETs and `loans:write` for POSTs; staff sessions need
servicing.view_loan and servicing.modify_loan (the permission that works
requests). The list is built from one query over `.values()` rows.

The POSTs honour an optional `Idempotency-Key` header (core.idempotency): a
retry with the same key and body returns the first result (200, header
`Idempotent-Replayed: true`) instead of acting again or answering 409.
"""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.businessdate import get_business_date
from core.exceptions import ValidationFailed
from core.idempotency import idempotent
from customers.api.customers import ErrorSerializer
from servicing.api.base import (
    IDEMPOTENT_ERRORS,
    KEY_PARAMETER,
    KEY_REPLAY,
    READ_ERRORS,
    VIEW,
    acting_user,
    parse,
)
from servicing.models import ServiceRequest
from servicing.selectors.requests import (
    OPEN_REQUEST_STATUSES,
    get_service_request,
    get_user_or_none,
    service_request_queue,
)
from servicing.services import service_requests as service

WORK = service.WORK_PERMISSION
MAX_ROWS = 500


class ServiceRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    loan_number = serializers.CharField()
    customer_id = serializers.IntegerField()
    kind = serializers.CharField(help_text="hardship, modification or other.")
    message = serializers.CharField()
    status = serializers.CharField(help_text="open, in_progress, resolved or declined.")
    assigned_to = serializers.CharField(allow_null=True, help_text="Username.")
    received_on = serializers.DateField(help_text="Business date the request arrived.")
    due_by = serializers.DateField(help_text="Business date it should be closed by.")
    overdue = serializers.BooleanField()
    resolution = serializers.CharField(help_text="Resolution note or reason for declining.")
    resolved_at = serializers.DateTimeField(allow_null=True)


def request_body(req: ServiceRequest, today) -> dict:
    still_to_do = req.status in OPEN_REQUEST_STATUSES
    return {
        "id": req.pk,
        "loan_id": req.loan_id,
        "loan_number": req.loan.loan_number,
        "customer_id": req.customer_id,
        "kind": req.kind,
        "message": req.message,
        "status": req.status,
        "assigned_to": req.assigned_to.get_username() if req.assigned_to_id else None,
        "received_on": req.received_on.isoformat(),
        "due_by": req.due_by.isoformat(),
        "overdue": still_to_do and req.due_by < today,
        "resolution": req.resolution,
        "resolved_at": req.resolved_at.isoformat() if req.resolved_at else None,
    }


class QueueQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["", "all", *ServiceRequest.Status.values], required=False, default=""
    )
    kind = serializers.ChoiceField(
        choices=["", *ServiceRequest.Kind.values], required=False, default=""
    )
    assigned_to = serializers.IntegerField(required=False, min_value=1)
    overdue = serializers.BooleanField(required=False, default=False)


class ServiceRequestListView(APIView):
    api_scope = "loans"
    required_permissions = {"GET": (VIEW, WORK)}

    @extend_schema(
        operation_id="service_requests_list",
        summary="List service requests",
        description=(
            "Borrowers' help requests, oldest due first (at most 500). Without `status`, "
            "the requests still to do (open or in progress); `status=all` for every one."
        ),
        tags=["service-requests"],
        parameters=[
            OpenApiParameter(
                "status", str, description="open, in_progress, resolved, declined, all"
            ),
            OpenApiParameter("kind", str, description="hardship, modification or other"),
            OpenApiParameter("assigned_to", int, description="Assignee's user id"),
            OpenApiParameter("overdue", bool, description="Only those past their due date"),
        ],
        responses={200: ServiceRequestSerializer(many=True), 400: ErrorSerializer, **READ_ERRORS},
    )
    def get(self, request):
        query = QueueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        today = get_business_date()
        rows = service_request_queue(
            today=today,
            status=data["status"],
            kind=data["kind"],
            assignee_id=data.get("assigned_to"),
            overdue=data["overdue"],
        )[:MAX_ROWS]
        return Response([request_body(req, today) for req in rows])


class ServiceRequestDetailView(APIView):
    api_scope = "loans"
    required_permissions = {"GET": (VIEW, WORK)}

    @extend_schema(
        operation_id="service_requests_retrieve",
        summary="One service request",
        tags=["service-requests"],
        responses={200: ServiceRequestSerializer, **READ_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(request_body(get_service_request(pk), get_business_date()))


class AssignInputSerializer(serializers.Serializer):
    assignee_id = serializers.IntegerField(help_text="A staff user who may work requests.")


class ResolveInputSerializer(serializers.Serializer):
    resolution = serializers.CharField(
        max_length=service.MAX_NOTE, help_text="What was done for the borrower."
    )


class DeclineInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=service.MAX_NOTE, help_text="Why it is declined.")


class _Action(APIView):
    api_scope = "loans"
    required_permissions = {"POST": (VIEW, WORK)}

    def _done(self, req) -> Response:
        return Response(request_body(get_service_request(req.pk), get_business_date()))


class ServiceRequestAssignView(_Action):
    @extend_schema(
        operation_id="service_requests_assign",
        summary="Assign a service request",
        description="A closed request answers 409; a user who cannot work requests 400."
        + KEY_REPLAY,
        tags=["service-requests"],
        parameters=[KEY_PARAMETER],
        request=AssignInputSerializer,
        responses={200: ServiceRequestSerializer, **IDEMPOTENT_ERRORS},
    )
    @idempotent
    def post(self, request, pk: int):
        req = get_service_request(pk)
        data = parse(AssignInputSerializer, request)
        assignee = get_user_or_none(data["assignee_id"])
        if assignee is None:
            raise ValidationFailed("No such user.", fields={"assignee_id": ["No such user."]})
        req = service.assign_request(request=req, assignee=assignee, user=acting_user(request))
        return self._done(req)


class ServiceRequestStartView(_Action):
    @extend_schema(
        operation_id="service_requests_start",
        summary="Start working a service request",
        description="Open -> in progress (assigned to the caller if nobody). Closed: 409."
        + KEY_REPLAY,
        tags=["service-requests"],
        parameters=[KEY_PARAMETER],
        request=None,
        responses={200: ServiceRequestSerializer, **IDEMPOTENT_ERRORS},
    )
    @idempotent
    def post(self, request, pk: int):
        req = get_service_request(pk)
        req = service.start_request(request=req, user=acting_user(request))
        return self._done(req)


class ServiceRequestResolveView(_Action):
    @extend_schema(
        operation_id="service_requests_resolve",
        summary="Resolve a service request",
        description=(
            "Closes the request with a resolution note (required: 400 without one). "
            "A request already resolved or declined answers 409. Nothing is written on error."
            + KEY_REPLAY
        ),
        tags=["service-requests"],
        parameters=[KEY_PARAMETER],
        request=ResolveInputSerializer,
        responses={200: ServiceRequestSerializer, **IDEMPOTENT_ERRORS},
    )
    @idempotent
    def post(self, request, pk: int):
        req = get_service_request(pk)
        data = parse(ResolveInputSerializer, request)
        req = service.resolve_request(
            request=req, user=acting_user(request), resolution=data["resolution"]
        )
        return self._done(req)


class ServiceRequestDeclineView(_Action):
    @extend_schema(
        operation_id="service_requests_decline",
        summary="Decline a service request",
        description=(
            "Closes the request with the reason (required: 400 without one). A request "
            "already resolved or declined answers 409. Nothing is written on error." + KEY_REPLAY
        ),
        tags=["service-requests"],
        parameters=[KEY_PARAMETER],
        request=DeclineInputSerializer,
        responses={200: ServiceRequestSerializer, **IDEMPOTENT_ERRORS},
    )
    @idempotent
    def post(self, request, pk: int):
        req = get_service_request(pk)
        data = parse(DeclineInputSerializer, request)
        req = service.decline_request(request=req, user=acting_user(request), reason=data["reason"])
        return self._done(req)


api_patterns = [
    path("service-requests/", ServiceRequestListView.as_view(), name="service-requests-api-list"),
    path(
        "service-requests/<int:pk>/",
        ServiceRequestDetailView.as_view(),
        name="service-requests-api-detail",
    ),
    path(
        "service-requests/<int:pk>/assign/",
        ServiceRequestAssignView.as_view(),
        name="service-requests-api-assign",
    ),
    path(
        "service-requests/<int:pk>/start/",
        ServiceRequestStartView.as_view(),
        name="service-requests-api-start",
    ),
    path(
        "service-requests/<int:pk>/resolve/",
        ServiceRequestResolveView.as_view(),
        name="service-requests-api-resolve",
    ),
    path(
        "service-requests/<int:pk>/decline/",
        ServiceRequestDeclineView.as_view(),
        name="service-requests-api-decline",
    ),
]
