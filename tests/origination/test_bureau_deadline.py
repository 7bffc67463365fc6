"""A slow bureau is cut off: each pull gets settings.BUREAU_TIMEOUT_SECONDS,
an overrun counts as a BureauTimeout (retried, then the application is
referred with the bureau reason, never approved), and a bureau that answers
in time is unaffected. The adapters are loaded through settings.BUREAU_ADAPTER
exactly as in production."""

import threading
import time
from datetime import UTC, date, datetime

import pytest
from django.test import override_settings

from core.models import AuditEvent
from origination.decisioning.bureau import BureauIdentity as Identity
from origination.decisioning.bureau import BureauResponse, BureauTimeout, pull_with_retry
from origination.decisioning.simulated import SIMULATED_BUREAU_CONTACT, SimulatedBureau
from origination.models import (
    Application,
    ApplicationState,
    BureauPull,
    DecisionRecord,
    bureau_report_of,
)
from tests.origination.test_applications import (
    CLEAN,
    import_sample_sdn,
    person,
    submitted,
    transitions,
)

pytestmark = pytest.mark.django_db
S = ApplicationState
DEADLINE = 0.2  # seconds per attempt under test
HERE = "tests.origination.test_bureau_deadline"


class SlowBureau:
    """Answers correctly, but only after SLEEP seconds (well past the deadline).
    `release` lets a test wake the abandoned worker threads at teardown."""

    name = "SLOW"
    contact = SIMULATED_BUREAU_CONTACT
    SLEEP = 5.0
    calls = 0
    release = threading.Event()

    def pull(self, identity, *, pulled_at) -> BureauResponse:
        type(self).calls += 1
        type(self).release.wait(self.SLEEP)
        return SimulatedBureau().pull(identity, pulled_at=pulled_at)


class FastBureau:
    """Answers well within the deadline."""

    name = "SIMULATED"
    contact = SIMULATED_BUREAU_CONTACT
    calls = 0

    def pull(self, identity, *, pulled_at) -> BureauResponse:
        type(self).calls += 1
        time.sleep(0.01)
        return SimulatedBureau().pull(identity, pulled_at=pulled_at)


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    import_sample_sdn()
    SlowBureau.calls = FastBureau.calls = 0
    SlowBureau.release.clear()
    yield
    SlowBureau.release.set()  # let the abandoned pulls finish at once


@override_settings(
    BUREAU_ADAPTER=f"{HERE}.SlowBureau",
    BUREAU_TIMEOUT_SECONDS=DEADLINE,
    BUREAU_RETRY_BASE_SECONDS=0,
)
def test_a_slow_bureau_is_cut_off_retried_and_the_application_referred():
    started = time.monotonic()
    app = submitted(person(CLEAN))  # clean file: the simulated bureau would approve
    elapsed = time.monotonic() - started

    # Three attempts of 0.2 s each, not three of 5 s: the request is not held.
    assert SlowBureau.calls == 3
    assert elapsed < 3.0, elapsed
    app.refresh_from_db()
    assert (app.state, app.auto_outcome, app.credit_score) == (S.IN_UNDERWRITING, "refer", None)
    assert app.approved_amount is None
    codes = [r["code"] for r in app.decision_reasons]
    assert "BUREAU_UNAVAILABLE" in codes
    assert transitions(app) == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "in_underwriting"),
    ]
    pull = BureauPull.objects.get(application=app)
    assert (pull.bureau, pull.status, pull.attempts, pull.score) == ("SLOW", "unavailable", 3, None)
    assert bureau_report_of(pull) == {"error": "BureauTimeout: SLOW did not answer within 0.2 s"}
    record = DecisionRecord.objects.get(application=app)
    assert (record.kind, record.outcome) == ("automatic", "refer")
    assert "BUREAU_UNAVAILABLE" in [r["code"] for r in record.reasons]
    assert list(
        AuditEvent.objects.filter(object_type="origination.application", object_id=str(app.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )[-2:] == ["application.submit", "application.refer"]


@override_settings(
    BUREAU_ADAPTER=f"{HERE}.FastBureau",
    BUREAU_TIMEOUT_SECONDS=DEADLINE,
    BUREAU_RETRY_BASE_SECONDS=0,
)
def test_a_bureau_answering_in_time_is_unaffected():
    app = submitted(person(CLEAN))
    assert FastBureau.calls == 1
    app.refresh_from_db()
    assert (app.state, app.auto_outcome, app.credit_score) == (S.APPROVED, "approve", 820)
    pull = BureauPull.objects.get(application=app)
    assert (pull.status, pull.attempts, pull.score) == ("ok", 1, 820)


@override_settings(BUREAU_TIMEOUT_SECONDS=DEADLINE)
def test_an_overrun_then_a_prompt_answer_succeeds_on_the_retry():
    """An overrun is retried like any unavailability; the late answer of the
    first attempt is discarded."""

    class SlowOnce:
        name = "SLOW_ONCE"
        contact = SIMULATED_BUREAU_CONTACT

        def __init__(self):
            self.calls = 0

        def pull(self, identity, *, pulled_at):
            self.calls += 1
            if self.calls == 1:
                SlowBureau.release.wait(SlowBureau.SLEEP)
            return SimulatedBureau().pull(identity, pulled_at=pulled_at)

    identity = Identity(
        first_name="Dana",
        last_name="Rivera",
        date_of_birth=date(1985, 6, 15),
        tax_id="401239999",
        address_line="12 St Marks Pl",
        postal_code="10003",
    )
    waits = []
    adapter = SlowOnce()
    response = pull_with_retry(
        adapter, identity, pulled_at=datetime(2026, 3, 2, tzinfo=UTC), backoff=waits.append
    )
    assert (response.status, response.attempts, adapter.calls, waits) == ("ok", 2, 2, [1])
    assert response.report().score == 820
    # An explicit timeout overrides the setting; the error names the deadline.
    response = pull_with_retry(
        SlowOnce(), identity, pulled_at=datetime(2026, 3, 2, tzinfo=UTC), attempts=1, timeout=0.05
    )
    assert (response.status, response.attempts) == ("unavailable", 1)
    assert response.error == f"{BureauTimeout.__name__}: SLOW_ONCE did not answer within 0.05 s"
    assert not Application.objects.exists()
