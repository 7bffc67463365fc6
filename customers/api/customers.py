"""REST API for customers under /api/v1/customers/.

Serializers here only parse and format (plain Serializers: a
ModelSerializer costs ~1 ms per object on lists); the rules are the
service's, whose ValidationFailed / Conflict the project's exception handler
turns into `{code, message, fields}`. Tax ids go out masked only; the full
id comes from the reveal endpoint, which is for signed-in staff holding
customers.reveal_tax_id and is closed to API keys (there is no scope for it).
Dates of birth follow the same rule: masked ("••/••/1985") to every caller,
in full only from the reveal-date-of-birth endpoint (signed-in staff holding
customers.reveal_date_of_birth, audited, no API key scope).
"""

import django_filters
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import services
from customers.models import Consent, Customer
from customers.selectors.consents import current_consents
from customers.selectors.customers import customers_with_contact, filter_customers, get_customer
from customers.validators import choice_message

VIEW = "customers.view_customer"
ADD = "customers.add_customer"
CHANGE = "customers.change_customer"
REVEAL = "customers.reveal_tax_id"
REVEAL_DOB = "customers.reveal_date_of_birth"
DOB_MASKED_HELP = 'Month and day hidden, e.g. "••/••/1985"; empty when none is on file.'


def _choice(choices, **kwargs):
    return serializers.ChoiceField(
        choices=choices.choices,
        error_messages={"invalid_choice": choice_message(choices)},
        **kwargs,
    )


def _text(**kwargs):
    return serializers.CharField(required=False, allow_blank=True, trim_whitespace=True, **kwargs)


# --- output ---------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable error code.")
    message = serializers.CharField(help_text="A sentence for a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (dotted for nested input, e.g. addresses.0.city).",
    )


# Address and phone kinds are plain strings in the schema: three choice sets
# all named "kind" would collide in drf-spectacular's enum naming.
ADDRESS_KIND_HELP = "residential, mailing or business."
PHONE_KIND_HELP = "mobile, home or work."


class AddressSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(help_text=ADDRESS_KIND_HELP)
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    is_primary = serializers.BooleanField()


class PhoneSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(help_text=PHONE_KIND_HELP)
    number = serializers.CharField(help_text="E.164, e.g. +12125550123.")
    is_primary = serializers.BooleanField()


class ConsentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    channel = serializers.ChoiceField(choices=Consent.Channel.choices)
    purpose = serializers.ChoiceField(choices=Consent.Purpose.choices)
    granted = serializers.BooleanField()
    wording_version = serializers.CharField()
    given_at = serializers.DateTimeField()
    source = serializers.ChoiceField(choices=Consent.Source.choices)


class CustomerListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    customer_number = serializers.CharField()
    kind = serializers.ChoiceField(choices=Customer.Kind.choices)
    legal_name = serializers.CharField()
    dba_name = serializers.CharField()
    email = serializers.CharField()
    primary_phone = serializers.CharField(allow_null=True, help_text="E.164, or null.")
    tax_id_type = serializers.CharField(help_text="ssn, itin, ein, or empty when none is on file.")
    tax_id_masked = serializers.CharField(help_text='Last four digits only, e.g. "•••-••-1234".')
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CustomerDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    customer_number = serializers.CharField()
    kind = serializers.ChoiceField(choices=Customer.Kind.choices)
    legal_name = serializers.CharField()
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth_masked = serializers.CharField(help_text=DOB_MASKED_HELP)
    business_name = serializers.CharField()
    dba_name = serializers.CharField()
    entity_type = serializers.CharField(help_text="One of the entity types, or empty.")
    registration_date = serializers.DateField(allow_null=True)
    tax_id_type = serializers.CharField(help_text="ssn, itin, ein, or empty when none is on file.")
    tax_id_masked = serializers.CharField(help_text='Last four digits only, e.g. "•••-••-1234".')
    email = serializers.CharField()
    preferred_channel = serializers.ChoiceField(choices=Customer.Channel.choices)
    preferred_language = serializers.ChoiceField(choices=Customer.Language.choices)
    quiet_hours_start = serializers.TimeField(allow_null=True)
    quiet_hours_end = serializers.TimeField(allow_null=True)
    has_portal_account = serializers.SerializerMethodField()
    addresses = AddressSerializer(many=True, source="addresses.all")
    phones = PhoneSerializer(many=True, source="phones.all")
    consents = serializers.SerializerMethodField(
        help_text="The current decision per channel and purpose (latest first)."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_has_portal_account(self, customer) -> bool:
        return customer.user_id is not None

    @extend_schema_field(ConsentSerializer(many=True))
    def get_consents(self, customer):
        current = current_consents(customer)
        return ConsentSerializer(current.values(), many=True).data


class DateOfBirthRevealSerializer(serializers.Serializer):
    customer_number = serializers.CharField()
    date_of_birth = serializers.DateField()


class TaxIdRevealSerializer(serializers.Serializer):
    customer_number = serializers.CharField()
    tax_id_type = serializers.CharField()
    tax_id = serializers.CharField(help_text="Formatted, e.g. 123-45-6789 or 12-3456789.")


# --- input ----------------------------------------------------------------------------


class AddressInputSerializer(serializers.Serializer):
    kind = _text(help_text=f"{ADDRESS_KIND_HELP} Default residential.")
    line1 = _text()
    line2 = _text()
    city = _text()
    state = _text(help_text="US state or territory code, e.g. NY.")
    postal_code = _text(help_text="12345 or 12345-6789.")
    country = _text(help_text="US (the only country supported).")
    is_primary = serializers.BooleanField(required=False, default=False)


class PhoneInputSerializer(serializers.Serializer):
    kind = _text(help_text=f"{PHONE_KIND_HELP} Default mobile.")
    number = _text(help_text="National (US) or international format; stored as E.164.")
    is_primary = serializers.BooleanField(required=False, default=False)


class ConsentInputSerializer(serializers.Serializer):
    channel = _choice(Consent.Channel)
    purpose = _choice(Consent.Purpose)
    granted = serializers.BooleanField()
    wording_version = _text(
        help_text="Blank for today's standard wording of the channel and purpose."
    )


class CustomerFieldsInputSerializer(serializers.Serializer):
    first_name = _text()
    middle_name = _text()
    last_name = _text()
    date_of_birth = serializers.DateField(
        required=False,
        allow_null=True,
        write_only=True,
        help_text="YYYY-MM-DD. On update, null or absent keeps the one on file.",
    )
    business_name = _text()
    dba_name = _text()
    entity_type = _text(help_text="sole_proprietorship, partnership, llc, corporation, ...")
    registration_date = serializers.DateField(required=False, allow_null=True)
    tax_id_type = _text(help_text="ssn, itin or ein; blank to infer from the number.")
    tax_id = _text(
        write_only=True,
        help_text="Plain digits, dashes allowed. On update, blank or absent keeps the one on file.",
    )
    email = _text()
    preferred_channel = _choice(Customer.Channel, required=False)
    preferred_language = _choice(Customer.Language, required=False)
    quiet_hours_start = serializers.TimeField(required=False, allow_null=True)
    quiet_hours_end = serializers.TimeField(required=False, allow_null=True)


class CustomerCreateInputSerializer(CustomerFieldsInputSerializer):
    kind = _choice(Customer.Kind)
    addresses = AddressInputSerializer(many=True, required=False)
    phones = PhoneInputSerializer(many=True, required=False)
    consents = ConsentInputSerializer(many=True, required=False)


class CustomerUpdateInputSerializer(CustomerFieldsInputSerializer):
    pass


# --- views -------------------------------------------------------------------------------


class CustomerFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Customer.Kind.choices, label="person or business")
    search = django_filters.CharFilter(
        method="filter_search",
        label=(
            "Name words, customer number (C-000123), e-mail, phone digits, last four "
            "digits of the tax id, or a full nine-digit tax id (exact match)."
        ),
    )

    class Meta:
        model = Customer
        fields = ["kind", "search"]

    def filter_search(self, queryset, name, value):
        return filter_customers(queryset, value)


def _detail_response(
    customer: Customer, *, status_code=status.HTTP_200_OK, headers=None
) -> Response:
    customer = get_customer(customer.pk)
    return Response(CustomerDetailSerializer(customer).data, status=status_code, headers=headers)


_ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
}


class CustomerCollectionView(GenericAPIView):
    api_scope = "customers"
    required_permissions = {"GET": (VIEW,), "POST": (VIEW, ADD), "*": (VIEW,)}
    serializer_class = CustomerListItemSerializer
    # ?search= is CustomerFilter's (the selectors' search rules); DRF's
    # SearchFilter from the defaults would only shadow it in the schema.
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = CustomerFilter
    ordering_fields = ("customer_number", "legal_name", "created_at")
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return customers_with_contact()

    @extend_schema(
        operation_id="customers_list",
        summary="Search customers",
        tags=["customers"],
        responses={200: CustomerListItemSerializer(many=True), **_ERRORS},
    )
    def get(self, request):
        customers = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(customers)
        return self.get_paginated_response(CustomerListItemSerializer(page, many=True).data)

    @extend_schema(
        operation_id="customers_create",
        summary="Create a customer",
        description=(
            "Creates a person or business with optional addresses, phones and consents. "
            "A duplicate tax id is refused with 409 `duplicate_tax_id`, naming the existing "
            "customer number; invalid input with 400 and per-field messages. Nothing is "
            "written in either case."
        ),
        tags=["customers"],
        request=CustomerCreateInputSerializer,
        responses={201: CustomerDetailSerializer, 409: ErrorSerializer, **_ERRORS},
    )
    def post(self, request):
        serializer = CustomerCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        addresses = data.pop("addresses", [])
        phones = data.pop("phones", [])
        consents = data.pop("consents", [])
        customer = services.create_customer(
            data=data,
            addresses=addresses,
            phones=phones,
            consents=consents,
            acting_user=request.user,
            source=Consent.Source.API,
        )
        location = reverse("customers-api-detail", kwargs={"pk": customer.pk})
        return _detail_response(
            customer, status_code=status.HTTP_201_CREATED, headers={"Location": location}
        )


class CustomerDetailView(APIView):
    api_scope = "customers"
    required_permissions = {"GET": (VIEW,), "PATCH": (VIEW, CHANGE), "*": (VIEW,)}

    @extend_schema(
        operation_id="customers_retrieve",
        summary="Get a customer",
        tags=["customers"],
        responses={200: CustomerDetailSerializer, 404: ErrorSerializer, **_ERRORS},
    )
    def get(self, request, pk: int):
        return Response(CustomerDetailSerializer(get_customer(pk)).data)

    @extend_schema(
        operation_id="customers_partial_update",
        summary="Change a customer",
        description=(
            "Changes the given fields only. The kind cannot change; a tax id, once on file, "
            "can be replaced but not removed."
        ),
        tags=["customers"],
        request=CustomerUpdateInputSerializer,
        responses={
            200: CustomerDetailSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            **_ERRORS,
        },
    )
    def patch(self, request, pk: int):
        customer = get_customer(pk)
        serializer = CustomerUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.update_customer(
            customer=customer, changes=dict(serializer.validated_data), acting_user=request.user
        )
        return _detail_response(customer)


class CustomerRevealTaxIdView(APIView):
    # No api_scope: API keys are refused until a "customers:reveal" scope exists.
    required_permissions = {"POST": (VIEW, REVEAL)}

    @extend_schema(
        operation_id="customers_reveal_tax_id",
        summary="Reveal a customer's full tax id",
        description=(
            "For signed-in staff holding customers.reveal_tax_id; not available to API keys. "
            "Every call writes a sensitive_read audit event before the id is returned."
        ),
        tags=["customers"],
        request=None,
        responses={200: TaxIdRevealSerializer, 404: ErrorSerializer, **_ERRORS},
    )
    def post(self, request, pk: int):
        customer = get_customer(pk)
        tax_id = services.reveal_tax_id(customer=customer, acting_user=request.user)
        body = {
            "customer_number": customer.customer_number,
            "tax_id_type": customer.tax_id_type,
            "tax_id": tax_id,
        }
        return Response(TaxIdRevealSerializer(body).data, headers={"Cache-Control": "no-store"})


class CustomerRevealDateOfBirthView(APIView):
    # No api_scope: API keys are refused, as for the tax id reveal.
    required_permissions = {"POST": (VIEW, REVEAL_DOB)}

    @extend_schema(
        operation_id="customers_reveal_date_of_birth",
        summary="Reveal a customer's full date of birth",
        description=(
            "For signed-in staff holding customers.reveal_date_of_birth; not available to API "
            "keys. Every call writes a sensitive_read audit event before the date is returned."
        ),
        tags=["customers"],
        request=None,
        responses={200: DateOfBirthRevealSerializer, 404: ErrorSerializer, **_ERRORS},
    )
    def post(self, request, pk: int):
        customer = get_customer(pk)
        birth = services.reveal_date_of_birth(customer=customer, acting_user=request.user)
        body = {"customer_number": customer.customer_number, "date_of_birth": birth}
        return Response(
            DateOfBirthRevealSerializer(body).data, headers={"Cache-Control": "no-store"}
        )
