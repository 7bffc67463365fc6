# ruff: noqa: F811 (pytest fixtures imported from closing_setup are used as arguments)
"""The application state machine, exhaustively: for every state (built
through the real services), every action the README's chart does not allow
from it is refused with a Conflict (409) naming the action and the state,
and writes nothing; every allowed withdraw and expire works and is audited.
The chart drawn in the README is the one declared on the model."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client

from core.exceptions import Conflict
from core.models import AuditEvent
from customers import services as customer_services
from origination.models import (
    Application,
    ApplicationEvent,
    ApplicationState,
    Condition,
    DecisionRecord,
    Offer,
    SanctionsList,
    Signature,
)
from origination.services import applications as app_services
from origination.services import closing, kyc, underwriting
from origination.services import disbursement as disbursing
from origination.services._common import ACTION_LABELS, apply_transition, lock
from tests.conftest import login_staff, make_staff
from tests.origination.closing_setup import (  # noqa: F401 (fixtures)
    ADDRESS,
    SAMPLE_SDN,
    TODAY,
    _closing_env,
    accepted_application,
    approved_application,
    make_customer,
    make_loan_product,
    servicing_product,
    set_business_date,
)
from tests.origination.test_applications import BANKRUPT, DELINQUENT
from tests.origination.test_disbursement import officer, signed_application  # noqa: F401

pytestmark = pytest.mark.django_db
S = ApplicationState
README = Path(__file__).resolve().parents[2] / "README.md"

# The chart, per action: the states it may start from. "resubmit" is the
# service for submit from returned; "refer" has no service of its own (only
# the automatic decision refers), so it is driven through apply_transition.
ALLOWED = {
    "submit": {S.DRAFT, S.RETURNED},
    "resubmit": {S.RETURNED},
    "refer": {S.SUBMITTED},
    "return_for_info": {S.SUBMITTED, S.IN_UNDERWRITING, S.CONDITIONALLY_APPROVED},
    "approve": {S.SUBMITTED, S.IN_UNDERWRITING, S.CONDITIONALLY_APPROVED},
    "approve_conditionally": {S.SUBMITTED, S.IN_UNDERWRITING},
    "decline": {S.SUBMITTED, S.IN_UNDERWRITING, S.CONDITIONALLY_APPROVED},
    "accept_offer": {S.APPROVED},
    "sign": {S.OFFER_ACCEPTED},
    "disburse": {S.DOCUMENTS_SIGNED},
    "withdraw": {
        S.DRAFT,
        S.SUBMITTED,
        S.RETURNED,
        S.IN_UNDERWRITING,
        S.CONDITIONALLY_APPROVED,
        S.APPROVED,
        S.OFFER_ACCEPTED,
        S.DOCUMENTS_SIGNED,
    },
    "expire": {
        S.DRAFT,
        S.SUBMITTED,
        S.RETURNED,
        S.CONDITIONALLY_APPROVED,
        S.APPROVED,
        S.OFFER_ACCEPTED,
    },
}
# Repeating an action from the state it leads to is a harmless replay (the
# service returns early, writing nothing), not a refusal. (submit on a
# submitted application is not refused either: it resumes the automatic
# decision; RESUMES, checked last.)
RESUMES = ("submit", S.SUBMITTED)
REPLAYS = {
    ("withdraw", S.WITHDRAWN),
    ("sign", S.DOCUMENTS_SIGNED),
    ("sign", S.DISBURSED),  # the signature on file is returned
    ("disburse", S.DISBURSED),
}
# What each refusal message must say about the action.
ACTION_WORDS = {
    "submit": "Cannot submit application",
    "resubmit": "Cannot resubmit application",
    "refer": "Cannot refer to underwriting application",
    "return_for_info": "Cannot return for information application",
    "approve": "Cannot approve application",
    "approve_conditionally": "Cannot approve conditionally application",
    "decline": "Cannot decline application",
    "accept_offer": "accepting an offer is not possible now",
    "sign": "signing is not possible now",
    "disburse": "Cannot disburse application",
    "withdraw": "Cannot withdraw application",
    "expire": "Cannot expire application",
}
FSM_NAME = {"resubmit": "submit"}  # the model transition behind each action


@pytest.fixture
def product(servicing_product):
    set_business_date(TODAY)
    return make_loan_product(servicing_product.pk)


@pytest.fixture
def underwriter(db):
    return make_staff("underwriter")


# --- building an application in each state, through the services ---------------------------


_serial = {"n": 0}


def _applicant(tax_id: str | None):
    if tax_id is None:
        return make_customer()
    _serial["n"] += 1
    n = _serial["n"]
    return customer_services.create_customer(
        data={
            "kind": "person",
            "first_name": "Lee",
            "last_name": f"Matrix{n}",
            "date_of_birth": TODAY.replace(year=1980),
            "tax_id": tax_id,
            "email": f"lee.matrix{n}@example.com",
        },
        addresses=[ADDRESS],
    )


def _draft(product, tax_id: str | None = None) -> Application:
    set_business_date(TODAY)
    app = app_services.start_application(
        applicant=_applicant(tax_id),
        product=product,
        channel="portal",
        data={
            "requested_amount": Decimal("10000.00"),
            "requested_term": 36,
            "purpose": "debt_consolidation",
            "employment_status": "employed",
            "employer": "Acme Corp",
            "employment_months": 60,
            "gross_monthly_income": Decimal("25000.00"),
            "housing_status": "rent",
            "housing_cost": Decimal("1500.00"),
            "other_obligations": Decimal("0.00"),
        },
    )
    for kind in ("credit_pull", "e_records"):
        app_services.record_consent(
            app, kind=kind, wording_version="2026-01", text=f"I agree ({kind}).", ip="203.0.113.9"
        )
    return app


def _sanctions_list() -> None:
    """Screening needs a list, else every decision refers."""
    if not SanctionsList.objects.exists():
        kyc.import_sdn(files=SAMPLE_SDN)


def _referred(product) -> Application:
    _sanctions_list()
    return app_services.submit(_draft(product, DELINQUENT))  # score 612: refer


def build(state: str, product, underwriter, officer) -> Application:
    """An application in `state`, reached through the real services."""
    if state == S.DRAFT:
        app = _draft(product)
    elif state == S.SUBMITTED:  # transient: submitted without the automatic decision
        _sanctions_list()
        app = app_services.submit(_draft(product), decide=False)
    elif state == S.IN_UNDERWRITING:
        app = _referred(product)
    elif state == S.RETURNED:
        app = app_services.return_for_info(
            _referred(product), "Send two recent payslips.", acting_user=underwriter
        )
    elif state == S.CONDITIONALLY_APPROVED:
        app = underwriting.approve_conditionally(
            _referred(product), underwriter, conditions=["Verify employment"]
        )
    elif state == S.APPROVED:
        app = approved_application(product)
    elif state == S.DECLINED:
        _sanctions_list()
        app = app_services.submit(_draft(product, BANKRUPT))  # chapter 7: automatic decline
    elif state == S.OFFER_ACCEPTED:
        app, _ = accepted_application(product)
    elif state == S.DOCUMENTS_SIGNED:
        app, _ = signed_application(product)
    elif state == S.DISBURSED:
        app, _ = signed_application(product)
        disbursing.disburse(application=app, user=officer)
    elif state == S.WITHDRAWN:
        app = app_services.withdraw(_draft(product), "Found a better rate.")
    elif state == S.EXPIRED:
        app = _draft(product)
        assert app_services.expire_stale(app.expires_on + timedelta(days=1)) == 1
    else:  # pragma: no cover - a new state must be added here
        raise AssertionError(f"no builder for {state}")
    app = Application.objects.get(pk=app.pk)
    assert app.state == state, (app.state, app.decision_reasons)
    return app


# --- the actions, each through its service ---------------------------------------------------


def _fsm(app, name):
    with transaction.atomic():
        return apply_transition(lock(app), name, note="matrix test")


def _offer_id(app) -> int:
    """An offer of `app` that is not the accepted one (0 when it has none)."""
    offer = app.offers.exclude(status=Offer.Status.ACCEPTED).order_by("id").first()
    return offer.pk if offer else 0


def run(action: str, app: Application, underwriter, officer):
    if action == "submit":
        return app_services.submit(app)
    if action == "resubmit":
        return app_services.resubmit(app)
    if action == "refer":
        return _fsm(app, "refer")
    if action == "return_for_info":
        return app_services.return_for_info(app, "Another document, please.", underwriter)
    if action == "approve":
        return underwriting.approve(app, underwriter, override_reason="matrix")
    if action == "approve_conditionally":
        return underwriting.approve_conditionally(
            app, underwriter, conditions=["Proof of address"], override_reason="matrix"
        )
    if action == "decline":
        return underwriting.decline(
            app, underwriter, reasons=["Insufficient income"], override_reason="matrix"
        )
    if action == "accept_offer":
        return closing.accept_offer(application=app, offer_id=_offer_id(app))
    if action == "sign":
        customer = app.applicant
        return closing.sign_documents(
            application=app,
            typed_name=f"{customer.first_name} {customer.last_name}",
            ip="203.0.113.9",
            user_agent="pytest",
            shown_sha256="0" * 64,
        )
    if action == "disburse":
        return disbursing.disburse(application=app, user=officer)
    if action == "withdraw":
        return app_services.withdraw(app, "Changed my mind.")
    if action == "expire":
        # The end-of-day service skips what it may not expire ...
        assert app_services.expire_stale(app.expires_on + timedelta(days=365)) == 0
        # ... and the transition itself refuses it.
        return _fsm(app, "expire")
    raise AssertionError(action)


def footprint(app) -> dict:
    """Everything a transition would write about `app`."""
    return {
        "state": Application.objects.get(pk=app.pk).state,
        "events": ApplicationEvent.objects.filter(application=app).count(),
        "audit": AuditEvent.objects.filter(
            object_type="origination.application", object_id=str(app.pk)
        ).count(),
        "decisions": DecisionRecord.objects.filter(application=app).count(),
        "conditions": Condition.objects.filter(application=app).count(),
        "signatures": Signature.objects.filter(application=app).count(),
        "offers": sorted(app.offers.values_list("id", "status")),
        "loan_number": Application.objects.get(pk=app.pk).loan_number,
    }


# --- the chart in the README is the chart on the model --------------------------------------


def test_the_readme_chart_is_the_model_chart():
    text = README.read_text()
    chart = text[text.index("stateDiagram-v2") :].split("```")[0]
    drawn = set()
    for source, target, name in re.findall(r"^\s*(\w+) --> (\w+): (\w+)", chart, re.M):
        drawn.add((source, name, target))
    field = Application._meta.get_field("state")
    declared = set()
    for t in field.get_all_transitions(Application):
        declared.add((t.source, t.name, t.target))
    assert drawn == declared
    # ALLOWED (what this file tests) is the same chart, per action.
    from_model = {}
    for source, name, _ in declared:
        from_model.setdefault(name, set()).add(source)
    assert from_model == {a: s for a, s in ALLOWED.items() if a != "resubmit"}
    assert set(S.values) == {s for s, _, _ in declared} | {t for _, _, t in declared}


# --- every refusal ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", S.values)
def test_actions_not_in_the_chart_are_refused_and_change_nothing(
    state, product, underwriter, officer
):
    app = build(state, product, underwriter, officer)
    label = S(state).label.lower()
    refused = [a for a, sources in ALLOWED.items() if state not in sources]
    assert refused, "every state refuses something"
    for action in refused:
        before = footprint(app)
        if (action, state) == RESUMES:
            continue
        if (action, state) in REPLAYS:
            run(action, app, underwriter, officer)
            assert footprint(app) == before, (action, state)
            continue
        # (accepting with no offer at all is refused for the state too, not a 404)
        with pytest.raises(Conflict) as exc:
            run(action, app, underwriter, officer)
        error = exc.value
        assert error.status_code == 409
        assert ACTION_WORDS[action] in error.message, (action, state, error.message)
        assert f" {label}" in error.message, (action, state, error.message)
        assert app.reference in error.message
        if error.code == "invalid_transition":
            assert error.fields == {"state": state, "action": action}
        else:  # the closing steps' own refusal
            assert (action, error.code) in {
                ("accept_offer", "invalid_state"),
                ("sign", "invalid_state"),
            }
        assert footprint(app) == before, (action, state)
        # The model's guard refuses the transition itself as well.
        name = FSM_NAME.get(action, action)
        if state not in ALLOWED.get(name, ()) and (name, state) not in REPLAYS:
            with pytest.raises(Conflict) as exc:
                _fsm(app, name)
            assert exc.value.message == (
                f"Cannot {ACTION_LABELS[name]} application {app.reference}: it is {label}."
            )
            assert footprint(app) == before, (name, state)
    if state == S.SUBMITTED:
        # A submitted application left undecided is decided by submitting again.
        app = app_services.submit(app)
        app.refresh_from_db()
        assert (app.state, app.auto_outcome) == (S.APPROVED, "approve")


# --- allowed transitions work and are audited ------------------------------------------------


def _last_audit(app):
    return (
        AuditEvent.objects.filter(object_type="origination.application", object_id=str(app.pk))
        .order_by("-id")
        .first()
    )


@pytest.mark.parametrize("state", sorted(ALLOWED["withdraw"]))
def test_withdraw_works_from_every_non_final_state(state, product, underwriter, officer):
    app = build(state, product, underwriter, officer)
    events = ApplicationEvent.objects.filter(application=app).count()
    app = app_services.withdraw(app, "Found a better rate.", acting_user=underwriter)
    app = Application.objects.get(pk=app.pk)
    assert (app.state, app.withdraw_reason) == (S.WITHDRAWN, "Found a better rate.")
    assert ApplicationEvent.objects.filter(application=app).count() == events + 1
    event = ApplicationEvent.objects.filter(application=app).order_by("-id").first()
    assert (event.from_state, event.to_state, event.actor_id, event.note) == (
        state,
        S.WITHDRAWN,
        underwriter.pk,
        "Found a better rate.",
    )
    audit = _last_audit(app)
    assert (audit.action, audit.actor_id) == ("application.withdraw", underwriter.pk)
    assert audit.changes == {"state": [state, S.WITHDRAWN]}
    # Withdrawing again is a replay; anything else is now refused.
    assert app_services.withdraw(app, "Again.").state == S.WITHDRAWN
    assert _last_audit(app).pk == audit.pk
    with pytest.raises(Conflict):
        app_services.return_for_info(app, "More?", underwriter)


@pytest.mark.parametrize("state", sorted(ALLOWED["expire"]))
def test_expire_works_from_every_expirable_state(state, product, underwriter, officer):
    app = build(state, product, underwriter, officer)
    assert app_services.expire_stale(app.expires_on) == 0  # still valid on its last day
    assert Application.objects.get(pk=app.pk).state == state
    assert app_services.expire_stale(app.expires_on + timedelta(days=1)) == 1
    app = Application.objects.get(pk=app.pk)
    assert app.state == S.EXPIRED
    event = ApplicationEvent.objects.filter(application=app).order_by("-id").first()
    assert (event.from_state, event.to_state, event.actor_id) == (state, S.EXPIRED, None)
    assert event.note == f"Validity ended {app.expires_on.isoformat()}"
    audit = _last_audit(app)
    assert audit.action == "application.expire"
    assert audit.changes == {"state": [state, S.EXPIRED]}
    assert audit.metadata["business_date"] == (app.expires_on + timedelta(days=1)).isoformat()
    # Running end of day again expires nothing more.
    assert app_services.expire_stale(app.expires_on + timedelta(days=2)) == 0


# --- through the API ---------------------------------------------------------------------------


def test_an_invalid_transition_through_the_api_is_409_with_code_and_message(product):
    app = _draft(product)
    user = make_staff("underwriter")
    client = login_staff(Client(), user)
    before = footprint(app)
    response = client.post(
        f"/api/v1/applications/{app.pk}/return/",
        {"reason": "Send payslips."},
        content_type="application/json",
    )
    assert response.status_code == 409, response.content
    assert response.json() == {
        "code": "invalid_transition",
        "message": f"Cannot return for information application {app.reference}: it is draft.",
        "fields": {"state": "draft", "action": "return_for_info"},
    }
    assert footprint(app) == before
