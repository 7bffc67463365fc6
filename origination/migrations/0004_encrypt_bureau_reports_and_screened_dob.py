"""Bureau reports and screened dates of birth encrypted at rest (issue 11).

Forward: each BureauPull's raw report becomes a Fernet token (core.crypto)
beside a plain `summary` of the parsed figures pages and notices show
(origination.decisioning.bureau.report_summary; no account, creditor or
identity detail); each SanctionsHit's screened date of birth becomes a token
plus its year. The plain columns are dropped.

Reverse: the tokens are decrypted back into the plain columns (with the
keys configured at the time); the summary column is dropped.
"""

import json
from datetime import date

from django.db import migrations, models

from core import crypto
from origination.decisioning.bureau import parse_report, report_summary

CHUNK = 500


def _summary(raw) -> dict:
    if not raw or set(raw) == {"error"}:
        return {"error": (raw or {}).get("error", "")}
    try:
        return report_summary(parse_report(raw))
    except ValueError:
        return {}


def _encrypt_json(raw) -> str:
    return crypto.encrypt(json.dumps(raw, sort_keys=True, separators=(",", ":")))


def encrypt(apps, schema_editor):
    BureauPull = apps.get_model("origination", "BureauPull")
    SanctionsHit = apps.get_model("origination", "SanctionsHit")
    batch = []
    for pull in BureauPull.objects.only("pk", "raw").iterator(chunk_size=CHUNK):
        raw = pull.raw or {}
        pull.raw_encrypted = _encrypt_json(raw) if raw else ""
        pull.summary = _summary(raw)
        batch.append(pull)
        if len(batch) >= CHUNK:
            BureauPull.objects.bulk_update(batch, ["raw_encrypted", "summary"])
            batch = []
    if batch:
        BureauPull.objects.bulk_update(batch, ["raw_encrypted", "summary"])
    hits = SanctionsHit.objects.filter(screened_dob__isnull=False).only("pk", "screened_dob")
    batch = []
    for hit in hits.iterator(chunk_size=CHUNK):
        hit.screened_dob_encrypted = crypto.encrypt(hit.screened_dob.isoformat())
        hit.screened_birth_year = hit.screened_dob.year
        batch.append(hit)
    for start in range(0, len(batch), CHUNK):
        SanctionsHit.objects.bulk_update(
            batch[start : start + CHUNK], ["screened_dob_encrypted", "screened_birth_year"]
        )


def decrypt(apps, schema_editor):
    BureauPull = apps.get_model("origination", "BureauPull")
    SanctionsHit = apps.get_model("origination", "SanctionsHit")
    batch = []
    pulls = BureauPull.objects.exclude(raw_encrypted="").only("pk", "raw_encrypted")
    for pull in pulls.iterator(chunk_size=CHUNK):
        pull.raw = json.loads(crypto.decrypt(pull.raw_encrypted))
        batch.append(pull)
        if len(batch) >= CHUNK:
            BureauPull.objects.bulk_update(batch, ["raw"])
            batch = []
    if batch:
        BureauPull.objects.bulk_update(batch, ["raw"])
    hits = SanctionsHit.objects.exclude(screened_dob_encrypted="").only(
        "pk", "screened_dob_encrypted"
    )
    batch = []
    for hit in hits.iterator(chunk_size=CHUNK):
        hit.screened_dob = date.fromisoformat(crypto.decrypt(hit.screened_dob_encrypted))
        batch.append(hit)
    for start in range(0, len(batch), CHUNK):
        SanctionsHit.objects.bulk_update(batch[start : start + CHUNK], ["screened_dob"])


class Migration(migrations.Migration):
    dependencies = [
        ("origination", "0003_disbursement_rail"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="bureaupull",
            options={
                "ordering": ["-pulled_at", "-id"],
                "permissions": [("reveal_bureau_report", "Can see full credit bureau reports")],
            },
        ),
        migrations.AddField(
            model_name="bureaupull",
            name="raw_encrypted",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="bureaupull",
            name="summary",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="sanctionshit",
            name="screened_birth_year",
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="sanctionshit",
            name="screened_dob_encrypted",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(encrypt, decrypt),
        migrations.RemoveField(model_name="bureaupull", name="raw"),
        migrations.RemoveField(model_name="sanctionshit", name="screened_dob"),
    ]
