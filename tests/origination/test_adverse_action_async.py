"""The adverse action notice of an automatic decline leaves the submit
request: the decision and the notice's content are recorded in the decline's
transaction; the PDF is rendered and e-mailed by a Celery task queued after
commit, or rendered by the first download if that comes first (once)."""

import hashlib
import io

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from pypdf import PdfReader

from core.models import AuditEvent
from customers import services as customer_services
from origination.models import ApplicationState, GeneratedDocument
from origination.services import adverse_action
from origination.tasks import deliver_adverse_action_notice_task
from tests.origination.test_api_applications import api_key_client
from tests.origination.test_applications import (
    BANKRUPT,
    CLEAN,
    import_sample_sdn,
    person,
    submitted,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the queued task runs when its callback does
    import_sample_sdn()


def declined(django_capture_on_commit_callbacks):
    """A bankruptcy-file applicant declined at submit, with the after-commit
    callbacks captured and not run (the task has not run yet)."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        app = submitted(person(BANKRUPT, first="Brian", last="Brokeman"))
    assert app.state == ApplicationState.DECLINED
    return app, callbacks


def events(app, action):
    return list(
        AuditEvent.objects.filter(object_id=str(app.pk), action=action).values_list(
            "metadata", flat=True
        )
    )


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_decline_records_the_notice_and_renders_nothing_in_the_request(
    django_capture_on_commit_callbacks,
):
    app, callbacks = declined(django_capture_on_commit_callbacks)
    notice = GeneratedDocument.objects.get(application=app, kind="adverse_action")
    assert (notice.sha256, notice.file.name) == ("", "")
    assert mail.outbox == []
    assert len(callbacks) == 1
    [recorded] = events(app, adverse_action.NOTICE_ACTION)
    assert recorded["document"] == notice.pk
    assert recorded["reasons"][:2] == ["CREDIT_SCORE", "BANKRUPTCY"]
    assert recorded["notice"]["score"] == 548
    assert recorded["notice"]["applicant"]["name"] == "Brian Brokeman"


def test_the_task_after_commit_renders_stores_and_emails_the_notice_once(
    django_capture_on_commit_callbacks,
):
    app, callbacks = declined(django_capture_on_commit_callbacks)
    callbacks[0]()  # the commit: the task is queued (and, eager here, runs)

    notice = GeneratedDocument.objects.get(application=app, kind="adverse_action")
    data = notice.file.open("rb").read()
    assert hashlib.sha256(data).hexdigest() == notice.sha256
    text = pdf_text(data)
    assert "Credit score below minimum" in text and "Bankruptcy" in text and "548" in text
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["brian.brokeman@example.com"]
    assert message.attachments[0][1] == data

    # a redelivered task renders nothing again and sends nothing again
    result = deliver_adverse_action_notice_task.delay(notice.pk).get()
    assert result == {"document": notice.pk, "sha256": notice.sha256, "emailed": False}
    assert len(mail.outbox) == 1
    assert GeneratedDocument.objects.filter(application=app).count() == 1
    assert len(events(app, adverse_action.RENDERED_ACTION)) == 1
    assert len(events(app, adverse_action.EMAILED_ACTION)) == 1


class RefusingMailServer(BaseEmailBackend):
    """The outside mail server, down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


def test_a_mail_failure_fails_the_task_so_celery_retries_it(
    django_capture_on_commit_callbacks, settings
):
    app, _ = declined(django_capture_on_commit_callbacks)
    notice = GeneratedDocument.objects.get(application=app, kind="adverse_action")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingMailServer"
    with pytest.raises(ConnectionRefusedError):
        adverse_action.deliver_notice(notice.pk)
    assert events(app, adverse_action.EMAILED_ACTION) == []
    notice.refresh_from_db()
    assert notice.sha256  # rendered and kept: the retry only sends

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    result = adverse_action.deliver_notice(notice.pk)
    assert result == {"document": notice.pk, "sha256": notice.sha256, "emailed": True}
    assert len(mail.outbox) == 1
    assert len(events(app, adverse_action.RENDERED_ACTION)) == 1
    assert deliver_adverse_action_notice_task.autoretry_for == (Exception,)


def test_download_before_the_task_ran_renders_the_pdf_once(
    django_capture_on_commit_callbacks, staff_client
):
    app, callbacks = declined(django_capture_on_commit_callbacks)
    notice = GeneratedDocument.objects.get(application=app, kind="adverse_action")

    api = api_key_client("applications:read")
    response = api.get(f"/api/v1/applications/{app.pk}/generated-documents/{notice.pk}/download/")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert "Bankruptcy" in pdf_text(response.content)
    notice.refresh_from_db()
    assert hashlib.sha256(response.content).hexdigest() == notice.sha256

    client, _ = staff_client("underwriter")
    url = reverse("origination:application-generated-download", args=[app.pk, notice.pk])
    again = client.get(url)
    assert (again.status_code, again.content) == (200, response.content)
    assert len(events(app, adverse_action.RENDERED_ACTION)) == 1

    callbacks[0]()  # the task runs late: it e-mails the same PDF, rendering nothing
    assert len(mail.outbox) == 1
    assert mail.outbox[0].attachments[0][1] == response.content
    assert len(events(app, adverse_action.RENDERED_ACTION)) == 1
    assert GeneratedDocument.objects.filter(application=app).count() == 1


def test_the_notice_shows_what_was_recorded_at_the_decline(django_capture_on_commit_callbacks):
    app, callbacks = declined(django_capture_on_commit_callbacks)
    customer_services.update_customer(
        customer=app.applicant, changes={"first_name": "Renamed", "last_name": "Later"}
    )
    callbacks[0]()
    notice = GeneratedDocument.objects.get(application=app, kind="adverse_action")
    text = pdf_text(notice.file.open("rb").read())
    assert "Brian Brokeman" in text and "Renamed" not in text


def test_approvals_queue_no_notice(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        app = submitted(person(CLEAN))
    assert app.state == ApplicationState.APPROVED
    assert callbacks == []
    assert not GeneratedDocument.objects.filter(kind="adverse_action").exists()
    assert mail.outbox == []
