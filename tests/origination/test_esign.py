"""E-signature: a certificate page with the evidence, then a real PAdES seal
that pyHanko validates against the platform certificate, and that breaks
when the file is changed."""

import hashlib
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from io import BytesIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader, PdfWriter

from core.exceptions import Conflict, ValidationFailed
from core.finance import Fee, LoanTerms
from origination import esign
from origination.disclosures import disclosure_context, render_tila_disclosure

SIGNED_AT = datetime(2026, 2, 27, 10, 4, 5, tzinfo=timezone(timedelta(hours=-5)))  # 15:04:05 UTC
CONSENTED_AT = datetime(2026, 2, 27, 15, 0, 0, tzinfo=UTC)
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"


def evidence(pdf: bytes, **overrides) -> dict:
    values = {
        "signer_name": "Dana Rivera",
        "signed_at": SIGNED_AT,
        "ip": "203.0.113.7",
        "user_agent": USER_AGENT,
        "shown_sha256": hashlib.sha256(pdf).hexdigest(),
        "reference": "APP-000123",
        "consented_at": CONSENTED_AT,
        "signer_identity": "Dana Rivera, customer C-000042",
    }
    values.update(overrides)
    return values


def text_of(pdf: bytes, pages=None) -> str:
    reader = PdfReader(BytesIO(pdf))
    chosen = reader.pages if pages is None else [reader.pages[i] for i in pages]
    return "\n".join(page.extract_text() for page in chosen)


@pytest.fixture(scope="module")
def shown():
    terms = LoanTerms(
        principal=Decimal("5000.00"),
        annual_rate=Decimal("0.1299"),
        term=12,
        disbursement_date=date(2026, 3, 2),
        fees=(Fee("Origination fee", Decimal("150.00"), "withheld", True),),
    )
    context = disclosure_context(
        terms,
        {"name": "Dana Rivera", "address": ["1 Main St"]},
        {"name": "Acme Lending", "address": ["2 Bank Plaza"], "email": "help@acme.example"},
        {"type": "flat", "amount": Decimal("25.00"), "grace_days": 10},
        "APP-000123",
        date(2026, 2, 27),
    )
    return render_tila_disclosure(context)


@pytest.fixture(scope="module")
def signed(shown):
    return esign.sign_pdf(shown.pdf, **evidence(shown.pdf))


def test_the_seal_is_valid_trusted_and_covers_the_whole_file(signed):
    summary = esign.verify_signed_pdf(signed)
    assert summary.intact and summary.valid and summary.trusted and summary.covers_whole_file
    assert summary.ok
    assert summary.field_name == "PlatformSignature"
    assert "Lending Platform document signing" in summary.signer_subject
    assert summary.signing_time is not None and summary.signing_time.tzinfo == UTC


def test_pyhanko_validates_it_directly_with_the_platform_certificate_as_root(signed):
    certificate = esign.platform_signer().certificate
    signatures = PdfFileReader(BytesIO(signed)).embedded_signatures
    assert len(signatures) == 1
    status = esign.outside_event_loop(
        validate_pdf_signature,
        signatures[0],
        ValidationContext(trust_roots=[certificate], allow_fetching=False),
    )
    assert status.bottom_line
    assert status.signing_cert.dump() == certificate.dump()
    start, length_1, after, length_2 = signatures[0].sig_object["/ByteRange"]
    # The signed range is the whole file except the /Contents hex string itself.
    assert start == 0 and after + length_2 == len(signed)
    gap = signed[length_1:after]
    assert gap[:1] == b"<" and gap[-1:] == b">"
    assert re.fullmatch(rb"[0-9a-fA-F]+", gap[1:-1])


def test_the_shown_pages_are_kept_and_a_certificate_page_is_added(shown, signed):
    shown_pages = len(PdfReader(BytesIO(shown.pdf)).pages)
    assert len(PdfReader(BytesIO(signed)).pages) == shown_pages + 1
    assert text_of(signed, range(shown_pages)) == text_of(shown.pdf)
    page = re.sub(r"\s+", " ", text_of(signed, [shown_pages]))
    assert "Signature certificate" in page
    assert "Reference APP-000123" in page
    assert "Document SHA-256" in page
    assert shown.sha256 in page.replace(" ", "")  # a long hex string may wrap
    assert "Signer Dana Rivera, customer C-000042" in page
    assert "Typed name Dana Rivera" in page
    assert "2026-02-27 15:00:00 UTC" in page  # consent to electronic records
    assert "Signed at 2026-02-27 15:04:05 UTC" in page  # -05:00 shown in UTC
    assert "IP address 203.0.113.7" in page
    assert "Chrome/130.0" in page
    assert esign.platform_signer().certificate_sha256 in page.replace(" ", "")


def test_changing_a_signed_byte_breaks_the_signature(signed):
    assert signed.count(b"/Lang (en)") >= 1
    tampered = signed.replace(b"/Lang (en)", b"/Lang (fr)", 1)
    assert len(tampered) == len(signed)
    summary = esign.verify_signed_pdf(tampered)
    assert summary.intact is False
    assert summary.valid is False
    assert summary.ok is False


def test_an_update_appended_after_signing_is_detected(signed):
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    writer.root["/Lang"] = generic.pdf_string("fr")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    summary = esign.verify_signed_pdf(out.getvalue())
    assert summary.intact  # the signed revision itself is untouched ...
    assert summary.covers_whole_file is False  # ... but it no longer is the whole file
    assert summary.ok is False


def test_another_certificate_as_trust_root_is_not_trusted(signed):
    key, cert = esign._self_signed("Someone else", "Elsewhere")
    _, other = esign._to_asn1(key, cert)
    summary = esign.verify_signed_pdf(signed, trust_roots=[other])
    assert summary.intact and summary.valid
    assert summary.trusted is False


def test_a_document_other_than_the_one_shown_is_refused(shown):
    other = PdfWriter(clone_from=PdfReader(BytesIO(shown.pdf)))
    other.add_blank_page()
    changed = BytesIO()
    other.write(changed)
    with pytest.raises(Conflict) as exc:
        esign.sign_pdf(changed.getvalue(), **evidence(shown.pdf))
    assert exc.value.code == "document_changed"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"signer_name": "   "}, "signer_name"),
        ({"signed_at": datetime(2026, 2, 27, 15, 4, 5)}, "signed_at"),  # naive
        ({"consented_at": datetime(2026, 2, 27, 15, 0, 0)}, "consented_at"),
    ],
)
def test_missing_or_ambiguous_evidence_is_refused(shown, override, field):
    with pytest.raises(ValidationFailed) as exc:
        esign.sign_pdf(shown.pdf, **evidence(shown.pdf, **override))
    assert field in exc.value.fields


def test_verifying_an_unsigned_or_unreadable_file_is_refused(shown):
    with pytest.raises(ValidationFailed, match="no digital signature"):
        esign.verify_signed_pdf(shown.pdf)
    with pytest.raises(ValidationFailed, match="not a readable PDF"):
        esign.verify_signed_pdf(b"MZ not a pdf at all")


def _write_key_and_cert(tmp_path, common_name):
    key, cert = esign._self_signed(common_name, "Acme Lending")
    key_file = tmp_path / "signing.key"
    cert_file = tmp_path / "signing.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    p12_file = tmp_path / "signing.p12"
    p12_file.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"signing", key, cert, None, serialization.BestAvailableEncryption(b"s3cret")
        )
    )
    return key_file, cert_file, p12_file


@pytest.mark.parametrize("kind", ["pem", "pkcs12"])
def test_a_configured_key_and_certificate_are_used(settings, tmp_path, shown, kind):
    key_file, cert_file, p12_file = _write_key_and_cert(tmp_path, f"Acme e-sign {kind}")
    settings.ESIGN_KEY_FILE = str(key_file if kind == "pem" else p12_file)
    settings.ESIGN_CERT_FILE = str(cert_file) if kind == "pem" else None
    settings.ESIGN_KEY_PASSPHRASE = "s3cret"
    assert esign.platform_signer().subject == (
        f"Organization: Acme Lending, Common Name: Acme e-sign {kind}"
    )
    signed = esign.sign_pdf(shown.pdf, **evidence(shown.pdf))
    summary = esign.verify_signed_pdf(signed)
    assert summary.ok
    assert summary.signer_subject == f"Organization: Acme Lending, Common Name: Acme e-sign {kind}"


def test_an_unreadable_configured_key_fails_loudly(settings, tmp_path):
    bogus = tmp_path / "bogus.p12"
    bogus.write_bytes(b"not a key")
    settings.ESIGN_KEY_FILE = str(bogus)
    settings.ESIGN_CERT_FILE = None
    with pytest.raises(ImproperlyConfigured, match="PKCS#12"):
        esign.platform_signer()
