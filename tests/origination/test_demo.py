"""The demo loader: applications in every state, idempotent, a disbursed
demo application boarded as a servicing loan."""

import time
from io import StringIO

import pytest
from django.core.management import call_command

from core.models import BusinessDate
from customers.demo import DEMO_BORROWER_EMAIL
from origination.demo import KEY_PREFIX
from origination.models import (
    Application,
    ApplicationEvent,
    ApplicationState,
    GeneratedDocument,
    LoanProduct,
    Offer,
    SanctionsHit,
    SanctionsList,
)
from servicing.models import Loan
from servicing.selectors.ledger import clear_account_cache

S = ApplicationState
pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(autouse=True)
def _demo_env(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clear_account_cache()
    yield
    clear_account_cache()


def _load():
    call_command("load_demo", "--customers", "3", "--loans", "2", "--quiet", stdout=StringIO())


def _counts():
    return {
        "applications": Application.objects.count(),
        "events": ApplicationEvent.objects.count(),
        "offers": Offer.objects.count(),
        "documents": GeneratedDocument.objects.count(),
        "products": LoanProduct.objects.count(),
        "lists": SanctionsList.objects.count(),
        "hits": SanctionsHit.objects.count(),
        "loans": Loan.objects.count(),
    }


def test_load_demo_creates_every_application_state_idempotently():
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": "2026-03-02"})
    started = time.monotonic()
    _load()
    elapsed = time.monotonic() - started
    assert elapsed < 60, elapsed  # the whole demo, origination included

    states = set(Application.objects.values_list("state", flat=True))
    assert states == set(S.values)
    demo = {
        a.idempotency_key.removeprefix(KEY_PREFIX): a
        for a in Application.objects.filter(idempotency_key__startswith=KEY_PREFIX)
    }
    assert demo["submitted"].state == S.SUBMITTED
    assert demo["returned"].return_reason == "Please upload your two most recent pay stubs."
    assert demo["in-underwriting"].state == S.IN_UNDERWRITING
    assert demo["in-underwriting"].credit_score == 612  # the simulated bureau's ...0004 file
    assert demo["conditionally-approved"].conditions.filter(status="open").count() == 2
    assert demo["approved"].offers.filter(status=Offer.Status.OFFERED).exists()
    assert demo["declined"].state == S.DECLINED
    assert demo["declined"].generated_documents.filter(kind="adverse_action").count() == 1
    assert demo["withdrawn"].state == S.WITHDRAWN
    assert demo["expired"].state == S.EXPIRED

    # the sanctions story waits in the compliance queue, referred
    assert demo["sanctions-review"].state == S.IN_UNDERWRITING
    hit = SanctionsHit.objects.get(application_id=demo["sanctions-review"].pk)
    assert hit.status == SanctionsHit.Status.POTENTIAL_MATCH
    assert hit.screened_name == "John Smith"

    # the disbursed one is a real servicing loan
    disbursed = demo["disbursed"]
    assert disbursed.state == S.DISBURSED
    loan = Loan.objects.get(loan_number=disbursed.loan_number)
    assert loan.principal == disbursed.approved_amount == 20000

    # the portal demo borrower has applications to see
    borrower_apps = Application.objects.filter(applicant__user__username=DEMO_BORROWER_EMAIL)
    assert set(borrower_apps.values_list("idempotency_key", flat=True)) == {
        KEY_PREFIX + "borrower-approved",
        KEY_PREFIX + "borrower-draft",
    }
    assert demo["borrower-draft"].state == S.DRAFT

    before = _counts()
    _load()
    assert _counts() == before
