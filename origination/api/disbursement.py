"""Origination REST API, funding (services.disbursement): the account the
loan is paid into and the disbursement with the boarding into servicing.

Access as in api.applications, plus origination.disburse_application to
disburse (checked by the service on the acting user, so an API key's user
needs it too)."""

from __future__ import annotations

from rest_framework import serializers

from origination.api.applications import (
    DISBURSE,
    VIEW,
    ApplicationView,
    _transition_schema,
    idempotency_key,
    parse,
    respond,
)
from origination.selectors.applications import get_application
from origination.services import disbursement as disbursing


class ApplicationBankAccountInput(serializers.Serializer):
    routing_number = serializers.CharField(max_length=9, help_text="ABA, checksum validated.")
    account_number = serializers.CharField(max_length=17)
    account_type = serializers.ChoiceField(choices=["checking", "savings"], default="checking")


class BankAccountView(ApplicationView):
    @_transition_schema(
        "applications_bank_account",
        "Set the account the loan is paid into",
        "Stored encrypted (last four shown); replaces an earlier account until the money is sent.",
        ApplicationBankAccountInput,
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        data = parse(ApplicationBankAccountInput, request)
        disbursing.set_bank_account(application=app, **data, user=request.user)
        return respond(app)


class DisburseView(ApplicationView):
    required_permissions = {"*": (VIEW, DISBURSE)}

    @_transition_schema(
        "applications_disburse",
        "Disburse and board the loan",
        "documents_signed -> disbursed: the disbursement and the boarding into servicing "
        "commit together (loan_number in the answer). Disbursing again answers 200.",
    )
    def post(self, request, pk: int):
        app = get_application(pk)
        idempotency_key(request)
        disbursing.disburse(application=app, user=request.user)
        return respond(app)
