"""Dates of birth encrypted at rest, like tax ids (issue 11).

Forward: every stored date of birth becomes a Fernet token of its ISO form
(core.crypto, settings.FIELD_ENCRYPTION_KEY) plus the year for the masked
display, and the plain column is dropped. Past audit rows of customers,
which carried the plain date in their before/after diffs, are redacted to
the masked form ("••/••/1985"), the form new rows use.

Reverse: the tokens are decrypted back into a plain date column (with the
keys configured at the time). The audit redaction cannot be undone (the
plain dates are gone from the log, which is the point); its reverse is a
no-op.
"""

import re

import pgtrigger
from django.db import migrations, models

from core import crypto

CHUNK = 1000
ISO_DATE = re.compile(r"^(\d{4})-\d{2}-\d{2}$")


def encrypt_dates_of_birth(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    batch = []
    rows = Customer.objects.filter(date_of_birth__isnull=False).only("pk", "date_of_birth")
    for customer in rows.iterator(chunk_size=CHUNK):
        customer.date_of_birth_encrypted = crypto.encrypt(customer.date_of_birth.isoformat())
        customer.birth_year = customer.date_of_birth.year
        batch.append(customer)
        if len(batch) >= CHUNK:
            Customer.objects.bulk_update(batch, ["date_of_birth_encrypted", "birth_year"])
            batch = []
    if batch:
        Customer.objects.bulk_update(batch, ["date_of_birth_encrypted", "birth_year"])


def decrypt_dates_of_birth(apps, schema_editor):
    from datetime import date

    Customer = apps.get_model("customers", "Customer")
    batch = []
    rows = Customer.objects.exclude(date_of_birth_encrypted="").only(
        "pk", "date_of_birth_encrypted"
    )
    for customer in rows.iterator(chunk_size=CHUNK):
        customer.date_of_birth = date.fromisoformat(
            crypto.decrypt(customer.date_of_birth_encrypted)
        )
        batch.append(customer)
        if len(batch) >= CHUNK:
            Customer.objects.bulk_update(batch, ["date_of_birth"])
            batch = []
    if batch:
        Customer.objects.bulk_update(batch, ["date_of_birth"])


def _masked(value):
    if isinstance(value, str):
        match = ISO_DATE.match(value)
        if match:
            return f"••/••/{match.group(1)}"
    return value


def redact_audited_dates_of_birth(apps, schema_editor):
    """Mask the plain dates of birth in customers' past audit diffs. The log
    is append-only (a trigger refuses updates); this one-off redaction runs
    with that trigger ignored for this statement only."""
    AuditEvent = apps.get_model("core", "AuditEvent")
    events = AuditEvent.objects.filter(
        object_type="customers.customer", changes__has_key="date_of_birth"
    ).only("pk", "changes")
    batch = []
    for event in events.iterator(chunk_size=CHUNK):
        pair = event.changes["date_of_birth"]
        if isinstance(pair, list):
            event.changes["date_of_birth"] = [_masked(v) for v in pair]
        else:
            event.changes["date_of_birth"] = _masked(pair)
        batch.append(event)
    with pgtrigger.ignore("core.AuditEvent:audit_append_only"):
        for start in range(0, len(batch), CHUNK):
            AuditEvent.objects.bulk_update(batch[start : start + CHUNK], ["changes"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="customer",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [
                    ("reveal_tax_id", "Can reveal full tax ids"),
                    ("reveal_date_of_birth", "Can reveal full dates of birth"),
                ],
            },
        ),
        migrations.AddField(
            model_name="customer",
            name="birth_year",
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="customer",
            name="date_of_birth_encrypted",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(encrypt_dates_of_birth, decrypt_dates_of_birth),
        migrations.RemoveField(model_name="customer", name="date_of_birth"),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("date_of_birth_encrypted", ""), ("birth_year__isnull", True)),
                    models.Q(
                        models.Q(("date_of_birth_encrypted", ""), _negated=True),
                        ("birth_year__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="customer_date_of_birth_complete",
            ),
        ),
        migrations.RunPython(redact_audited_dates_of_birth, migrations.RunPython.noop),
    ]
