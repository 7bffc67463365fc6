"""Electronic signature of a rendered document: certificate page + PAdES seal.

`sign_pdf` takes the exact PDF bytes the borrower was shown, refuses them if
their SHA-256 is not the one recorded when they were shown, appends a
"Signature certificate" page (WeasyPrint) with the evidence (typed name,
signing time, IP, user agent, the shown document's SHA-256, the time of the
consent to electronic records, the reference), and then seals the whole file
with a PDF digital signature (PAdES baseline B-B, CMS, SHA-256) made with the
platform's signing certificate (pyHanko). Any later change to the file breaks
that signature; `verify_signed_pdf` reports whether it is intact.

The signing certificate (`platform_signer`) comes from settings:

- ESIGN_KEY_FILE + ESIGN_CERT_FILE: a PEM or DER private key and its
  certificate;
- ESIGN_KEY_FILE alone: a PKCS#12 (.p12/.pfx) bundle of key and certificate;
- ESIGN_KEY_PASSPHRASE: the passphrase of either, if any.

Unset (development, tests), a self-signed RSA-2048 certificate is generated
once per process and cached: signatures are real and verifiable against it,
but a document sealed by another process is "intact" and not "trusted" here.

No database access; the caller stores the signed bytes and the evidence.
The certificate generation and pyHanko's signing time read the wall clock:
they record when the seal was made, which decides nothing that is due.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.documents import render_pdf
from core.exceptions import Conflict, ValidationFailed

logger = logging.getLogger(__name__)

CERTIFICATE_TEMPLATE = "documents/signature_certificate.html"
SIGNATURE_FIELD = "PlatformSignature"


@dataclass(frozen=True)
class PlatformSigner:
    """The pyHanko signer and its certificate (asn1crypto), for trust roots."""

    signer: object  # pyhanko.sign.signers.SimpleSigner
    certificate: object  # asn1crypto.x509.Certificate

    @property
    def subject(self) -> str:
        return self.certificate.subject.human_friendly

    @property
    def certificate_sha256(self) -> str:
        return hashlib.sha256(self.certificate.dump()).hexdigest()


@dataclass(frozen=True)
class SignatureSummary:
    """What `verify_signed_pdf` found about the document's last signature.

    intact: the signed byte range hashes to the digest in the signature;
    valid: intact, and the cryptographic signature over it checks out;
    trusted: the signer's certificate chains to a trust root given (by
    default the platform's own certificate);
    covers_whole_file: the signed byte range is the whole file (nothing
    was appended after signing);
    signing_time: when the seal was applied (UTC), as the signature says."""

    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    signer_subject: str
    signing_time: datetime | None
    field_name: str

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.covers_whole_file


def _to_asn1(private_key, certificate):
    from asn1crypto import keys, x509
    from cryptography.hazmat.primitives import serialization

    key_info = keys.PrivateKeyInfo.load(
        private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert = x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    return key_info, cert


def _self_signed(common_name: str, organisation: str):
    """A self-signed RSA-2048 document-signing certificate, valid 10 years."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # pyHanko's validator requires non-repudiation (content commitment).
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _load_configured(key_file: str, cert_file: str | None, passphrase: str | None):
    from pyhanko.sign import signers

    secret = passphrase.encode() if passphrase else None
    if cert_file:
        signer = signers.SimpleSigner.load(key_file, cert_file, key_passphrase=secret)
        if signer is None:
            raise ImproperlyConfigured(
                f"ESIGN_KEY_FILE / ESIGN_CERT_FILE could not be loaded ({key_file}, {cert_file})."
            )
        return signer
    try:
        with open(key_file, "rb") as handle:
            return signers.SimpleSigner.load_pkcs12_data(
                handle.read(), other_certs=[], passphrase=secret
            )
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"ESIGN_KEY_FILE {key_file} is not a readable PKCS#12 bundle "
            "(set ESIGN_CERT_FILE too for a PEM/DER key and certificate)."
        ) from exc


@functools.cache
def _platform_signer(
    key_file: str | None, cert_file: str | None, passphrase: str | None, platform: str
) -> PlatformSigner:
    if key_file:
        signer = _load_configured(key_file, cert_file, passphrase)
        return PlatformSigner(signer=signer, certificate=signer.signing_cert)
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    if not settings.DEBUG and not getattr(settings, "TESTING", False):
        logger.warning(
            "ESIGN_KEY_FILE is not set: signing with a temporary self-signed certificate."
        )
    key, cert = _self_signed(f"{platform} document signing (self-signed)", platform)
    key_info, certificate = _to_asn1(key, cert)
    signer = signers.SimpleSigner(
        signing_cert=certificate,
        signing_key=key_info,
        cert_registry=SimpleCertificateStore(),
    )
    return PlatformSigner(signer=signer, certificate=certificate)


def platform_signer() -> PlatformSigner:
    """The platform's signing key and certificate (see the module docstring)."""
    return _platform_signer(
        getattr(settings, "ESIGN_KEY_FILE", None) or None,
        getattr(settings, "ESIGN_CERT_FILE", None) or None,
        getattr(settings, "ESIGN_KEY_PASSPHRASE", None) or None,
        getattr(settings, "PLATFORM_NAME", "Lending Platform"),
    )


def _utc(moment: datetime, name: str) -> str:
    if moment.tzinfo is None:
        raise ValidationFailed(f"{name} must be timezone-aware.", fields={name: "needs a timezone"})
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _page_count(pdf_bytes: bytes) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return len(PdfReader(BytesIO(pdf_bytes)).pages)
    except (PdfReadError, ValueError) as exc:
        raise ValidationFailed("The document is not a readable PDF.") from exc


def outside_event_loop(fn, *args, **kwargs):
    """Call `fn`, which may use asyncio.run() (pyHanko's sync signing and
    validation do), in a worker thread when this thread already runs an
    event loop (an ASGI server, or Playwright's sync API in the same
    process), where asyncio.run() would refuse to start."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def sign_pdf(
    pdf_bytes: bytes,
    *,
    signer_name: str,
    signed_at: datetime,
    ip: str,
    user_agent: str,
    shown_sha256: str,
    reference: str,
    consented_at: datetime,
    signer_identity: str = "",
) -> bytes:
    """The signed document: `pdf_bytes` + a signature certificate page, sealed.

    `signer_name` is the name the borrower typed; `signer_identity` (optional)
    how the platform knows them (e.g. "Dana Rivera, customer C-000123").
    `signed_at` and `consented_at` are aware datetimes (shown in UTC).
    Raises Conflict when sha256(pdf_bytes) != `shown_sha256` (the borrower
    would be signing something other than what they were shown), and
    ValidationFailed for an empty typed name or an unreadable PDF."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pypdf import PdfReader, PdfWriter

    actual = hashlib.sha256(pdf_bytes).hexdigest()
    if actual != shown_sha256.lower():
        raise Conflict(
            "The document to sign is not the one that was shown to the signer.",
            code="document_changed",
        )
    typed = (signer_name or "").strip()
    if not typed:
        raise ValidationFailed(
            "Type your full name to sign.", fields={"signer_name": "This field is required."}
        )
    pages = _page_count(pdf_bytes)
    seal = platform_signer()
    certificate_page = render_pdf(
        CERTIFICATE_TEMPLATE,
        {
            "reference": reference,
            "shown_sha256": actual,
            "page_count": pages,
            "signer_name": typed,
            "signer_identity": signer_identity,
            "signed_at_utc": _utc(signed_at, "signed_at"),
            "consented_at_utc": _utc(consented_at, "consented_at"),
            "ip": ip or "unknown",
            "user_agent": user_agent or "unknown",
            "platform_subject": seal.subject,
            "platform_cert_sha256": seal.certificate_sha256,
        },
    ).pdf

    writer = PdfWriter(clone_from=PdfReader(BytesIO(pdf_bytes)))
    writer.append(PdfReader(BytesIO(certificate_page)))
    merged = BytesIO()
    writer.write(merged)

    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=f"Signed electronically by {typed} ({reference})",
        name=typed,
    )
    merged.seek(0)
    out = outside_event_loop(
        signers.sign_pdf, IncrementalPdfFileWriter(merged), meta, signer=seal.signer
    )
    return out.getvalue()


def verify_signed_pdf(pdf_bytes: bytes, *, trust_roots: list | None = None) -> SignatureSummary:
    """Validate the document's last signature against `trust_roots`
    (asn1crypto certificates; default: the platform's certificate).
    Raises ValidationFailed for an unreadable PDF or one with no signature."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
        embedded = reader.embedded_signatures
    except (PdfError, ValueError) as exc:
        raise ValidationFailed("The document is not a readable PDF.") from exc
    if not embedded:
        raise ValidationFailed("The document carries no digital signature.")
    signature = embedded[-1]
    roots = trust_roots if trust_roots is not None else [platform_signer().certificate]
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        status = outside_event_loop(validate_pdf_signature, signature, context)
    except (PdfError, ValueError):  # pyHanko's validation errors are ValueErrors
        return SignatureSummary(
            intact=False,
            valid=False,
            trusted=False,
            covers_whole_file=False,
            signer_subject="",
            signing_time=None,
            field_name=signature.field_name,
        )
    return SignatureSummary(
        intact=status.intact,
        valid=status.intact and status.valid,
        trusted=status.trusted,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer_subject=status.signing_cert.subject.human_friendly,
        signing_time=(
            status.signer_reported_dt.astimezone(UTC) if status.signer_reported_dt else None
        ),
        field_name=signature.field_name,
    )
