"""KYC/AML services: importing sanctions lists, screening customers against
the active list, deciding the resulting compliance hits, identity checks.

Sanctions screening itself is pure (origination.sanctions); this module
loads the active list, caches its screening index per process (a list is
immutable once imported, so the cache key is the list's id and digest), and
records results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from core import audit, crypto
from core.audit import actor_of
from core.businessdate import get_business_date
from core.exceptions import Conflict, DomainError, PermissionDenied, ValidationFailed
from core.models import AuditCategory
from customers.models import Customer, date_of_birth_of
from origination import sanctions
from origination.decisioning import identity as kyc_checks
from origination.models import SanctionsEntry, SanctionsHit, SanctionsList

REVIEW_PERMISSION = "origination.review_compliance"
DEFAULT_SOURCE = "OFAC SDN"
BULK_BATCH = 2000


# --- import --------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    sanctions_list_id: int
    sha256: str
    created: bool  # False: this exact publication was already imported
    entries: int
    aliases: int
    addresses: int
    dates_of_birth: int


def read_files(source: str | Path | Mapping[str, bytes]) -> dict[str, bytes]:
    """{lower-case file name: bytes} from a mapping, a directory holding the
    SDN files, or one file path (sdn.csv alone). Other files are ignored."""
    if isinstance(source, Mapping):
        return {Path(str(k)).name.lower(): v for k, v in source.items()}
    path = Path(source)
    paths = [p for p in path.iterdir() if p.is_file()] if path.is_dir() else [path]
    return {p.name.lower(): p.read_bytes() for p in paths if p.name.lower() in sanctions.FILE_NAMES}


def files_digest(files: Mapping[str, bytes]) -> str:
    """SHA-256 over the SDN files present, in a fixed order, each prefixed
    by its name: the same publication always gives the same digest."""
    digest = hashlib.sha256()
    for name in sanctions.FILE_NAMES:
        if name in files:
            content = files[name]
            digest.update(name.encode() + b"\0" + str(len(content)).encode() + b"\0")
            digest.update(content if isinstance(content, bytes) else content.encode())
    return digest.hexdigest()


def _entry_row(sanctions_list: SanctionsList, entry: sanctions.SdnEntry) -> SanctionsEntry:
    data = entry.to_dict()
    return SanctionsEntry(
        sanctions_list=sanctions_list,
        ent_num=entry.ent_num,
        name=entry.name[:350],
        normalized_name=sanctions.normalise_name(
            entry.name, individual=entry.kind == sanctions.KIND_INDIVIDUAL
        )[:350],
        kind=entry.kind,
        programs=list(entry.programs),
        aliases=data["aliases"],
        dates_of_birth=data["dates_of_birth"],
        addresses=data["addresses"],
        remarks=entry.remarks,
        title=entry.title[:300],
        details=dict(entry.details),
    )


def import_sdn(
    *,
    files: str | Path | Mapping[str, bytes],
    source: str = DEFAULT_SOURCE,
    publish_date: date | None = None,
    acting_user=None,
) -> ImportReport:
    """Import an OFAC SDN legacy CSV file set and make it the active list.

    `files` is {name: bytes} or a directory / file path (see read_files).
    Idempotent on the files' digest: a publication already imported is
    reported with created=False and nothing is written. Otherwise, in one
    transaction: the previous active list is deactivated (its row locked, so
    two imports serialise), the list and its entries are inserted in bulk,
    and "sanctions.list_imported" is audited. Raises ValidationFailed when
    the files are not in the SDN format (nothing written).
    """
    named = read_files(files)
    try:
        entries = sanctions.parse_sdn(named)
    except sanctions.SdnFormatError as exc:
        raise ValidationFailed(str(exc), code="sdn_format", fields={"files": [str(exc)]}) from exc
    digest = files_digest(named)
    counts = {
        "entries": len(entries),
        "aliases": sum(len(e.aliases) for e in entries),
        "addresses": sum(len(e.addresses) for e in entries),
        "dates_of_birth": sum(len(e.dates_of_birth) for e in entries),
    }
    with transaction.atomic():
        list(SanctionsList.objects.select_for_update().filter(is_active=True))
        existing = SanctionsList.objects.filter(sha256=digest).first()
        if existing is not None:
            return ImportReport(existing.pk, digest, False, **counts)
        SanctionsList.objects.filter(is_active=True).update(is_active=False)
        sanctions_list = SanctionsList.objects.create(
            source=source[:200],
            sha256=digest,
            imported_by=actor_of(acting_user),
            entry_count=counts["entries"],
            alias_count=counts["aliases"],
            publish_date=publish_date,
            is_active=True,
        )
        SanctionsEntry.objects.bulk_create(
            (_entry_row(sanctions_list, e) for e in entries), batch_size=BULK_BATCH
        )
        audit.record(
            action="sanctions.list_imported",
            category=AuditCategory.CONFIG,
            obj=sanctions_list,
            metadata={"source": source, "sha256": digest, **counts},
            actor=actor_of(acting_user),
        )
    return ImportReport(sanctions_list.pk, digest, True, **counts)


# --- screening -----------------------------------------------------------------

_INDEX_CACHE: dict[tuple[int, str], sanctions.ScreeningIndex] = {}


def active_list() -> SanctionsList | None:
    return SanctionsList.objects.filter(is_active=True).first()


def _sdn_entry(row: dict) -> sanctions.SdnEntry:
    return sanctions.SdnEntry(
        ent_num=row["ent_num"],
        name=row["name"],
        kind=row["kind"],
        programs=tuple(row["programs"]),
        aliases=tuple(sanctions.Alias(**a) for a in row["aliases"]),
        dates_of_birth=tuple(sanctions.DateOfBirth(**d) for d in row["dates_of_birth"]),
    )


def screening_index(sanctions_list: SanctionsList) -> sanctions.ScreeningIndex:
    """The list's screening index, built once per process."""
    key = (sanctions_list.pk, sanctions_list.sha256)
    index = _INDEX_CACHE.get(key)
    if index is None:
        rows = SanctionsEntry.objects.filter(sanctions_list=sanctions_list).values(
            "ent_num", "name", "kind", "programs", "aliases", "dates_of_birth"
        )
        index = sanctions.build_index([_sdn_entry(r) for r in rows.iterator(chunk_size=5000)])
        _INDEX_CACHE.clear()  # only the active list is ever screened against
        _INDEX_CACHE[key] = index
    return index


def subject_names(customer: Customer) -> list[str]:
    """The names a customer is screened under: a person's full name; a
    business's legal name and trade name."""
    if customer.is_person:
        full = " ".join(
            p for p in (customer.first_name, customer.middle_name, customer.last_name) if p
        )
        return [full or customer.legal_name]
    return [n for n in (customer.legal_name, customer.dba_name) if n]


def screen_customer(
    *, customer: Customer, application_id: int | None = None, acting_user=None
) -> SanctionsHit | None:
    """Screen a customer against the active sanctions list.

    Returns None when nothing resembles the customer (clean), else the open
    SanctionsHit in the compliance queue: an already open hit for the same
    customer and application is returned rather than duplicated. Every
    screening, clean or not, is audited ("sanctions.screened") on the
    customer. Locks the customer row so concurrent screenings of one
    customer serialise. Raises DomainError("no_sanctions_list") when no
    list has been imported: screening must never pass by default.
    """
    sanctions_list = active_list()
    if sanctions_list is None:
        raise DomainError(
            "No sanctions list has been imported; run manage.py import_sdn.",
            code="no_sanctions_list",
        )
    index = screening_index(sanctions_list)
    dob = date_of_birth_of(customer) if customer.is_person else None
    best: dict[int, sanctions.Match] = {}
    names = subject_names(customer)
    for name in names:
        for match in sanctions.screen(name, dob, index, subject_kind=customer.kind):
            if match.ent_num not in best or match.score > best[match.ent_num].score:
                best[match.ent_num] = match
    matches = sorted(best.values(), key=lambda m: (-m.score, m.ent_num))
    actor = actor_of(acting_user)
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        hit = None
        if matches:
            hit = SanctionsHit.objects.filter(
                customer=customer,
                application_id=application_id,
                status=SanctionsHit.Status.POTENTIAL_MATCH,
            ).first()
            if hit is None:
                hit = SanctionsHit.objects.create(
                    customer=customer,
                    application_id=application_id,
                    screened_name=" / ".join(names)[:300],
                    screened_dob_encrypted=crypto.encrypt(dob.isoformat()) if dob else "",
                    screened_birth_year=dob.year if dob else None,
                    sanctions_list=sanctions_list,
                    matches=[m.to_dict() for m in matches],
                    top_score=matches[0].score,
                )
        audit.record(
            action="sanctions.screened",
            category=AuditCategory.CREATE if hit else AuditCategory.UPDATE,
            obj=customer,
            metadata={
                "result": "potential_match" if matches else "clean",
                "sanctions_list": sanctions_list.sha256,
                "matches": [m.ent_num for m in matches],
                "top_score": matches[0].score if matches else None,
                "hit": hit.pk if hit else None,
                "application_id": application_id,
            },
            actor=actor,
        )
    return hit


# --- compliance decisions ------------------------------------------------------


def _decide(*, hit: SanctionsHit, status: str, acting_user, reason: str) -> SanctionsHit:
    if actor_of(acting_user) is None:
        raise PermissionDenied("A person must decide a sanctions hit.", code="decider_required")
    if not acting_user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Your role may not decide sanctions hits.", code="not_allowed")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Give the reason for the decision.",
            code="reason_required",
            fields={"reason": ["Give the reason for the decision."]},
        )
    with transaction.atomic():
        locked = SanctionsHit.objects.select_for_update().get(pk=hit.pk)
        if not locked.is_open:
            raise Conflict(
                f"This hit was already decided ({locked.get_status_display().lower()}).",
                code="already_decided",
            )
        before = audit.snapshot(locked, ["status", "decided_by", "decided_at", "decision_reason"])
        locked.status = status
        locked.decided_by = acting_user
        locked.decided_at = timezone.now()
        locked.decision_reason = reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        after = audit.snapshot(locked, ["status", "decided_by", "decided_at", "decision_reason"])
        audit.record(
            action=f"sanctions.hit_{status}",
            category=AuditCategory.STATE_CHANGE,
            obj=locked,
            changes=audit.diff(before, after),
            metadata={
                "customer": locked.customer_id,
                "application_id": locked.application_id,
                "matches": [m["ent_num"] for m in locked.matches],
            },
            actor=acting_user,
        )
    return locked


def clear_hit(*, hit: SanctionsHit, acting_user, reason: str) -> SanctionsHit:
    """Clear an open hit as a false positive. Needs a person holding
    origination.review_compliance (PermissionDenied) and a non-blank reason
    (ValidationFailed, nothing written); a decided hit raises Conflict (409).
    Locks the hit row; audits "sanctions.hit_cleared"."""
    return _decide(
        hit=hit, status=SanctionsHit.Status.CLEARED, acting_user=acting_user, reason=reason
    )


def mark_confirmed(*, hit: SanctionsHit, acting_user, reason: str) -> SanctionsHit:
    """Record an open hit as a true match; same rules as clear_hit. Audits
    "sanctions.hit_confirmed". The decline that follows a confirmation is
    underwriting.confirm_hit's (it calls this)."""
    return _decide(
        hit=hit, status=SanctionsHit.Status.CONFIRMED, acting_user=acting_user, reason=reason
    )


def screen_application(*, application, acting_user) -> list[SanctionsHit]:
    """Screen an application's applicant and co-applicant again (after a
    screening that found no sanctions list, say), linking any hit to the
    application. Needs origination.review_compliance (PermissionDenied);
    raises DomainError("no_sanctions_list") when there is still no list
    (nothing written). Returns the open hits found."""
    if actor_of(acting_user) is None:
        raise PermissionDenied("A person must run the screening.", code="screener_required")
    if not acting_user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Your role may not run sanctions screening.", code="not_allowed")
    if active_list() is None:
        raise DomainError(
            "No sanctions list has been imported; run manage.py import_sdn.",
            code="no_sanctions_list",
        )
    subjects = [application.applicant]
    if application.co_applicant_id:
        subjects.append(application.co_applicant)
    hits = []
    with transaction.atomic():
        for customer in subjects:
            hit = screen_customer(
                customer=customer, application_id=application.pk, acting_user=acting_user
            )
            if hit is not None:
                hits.append(hit)
    return hits


# --- identity checks -----------------------------------------------------------


def identity_input(customer: Customer) -> kyc_checks.IdentityInput:
    """The customer's data for kyc_checks, with the tax id decrypted (it stays
    in memory: only pass/fail and a masked id leave this module)."""
    address = customer.addresses.filter(is_primary=True).first() or customer.addresses.first()
    tax_id = crypto.decrypt(customer.tax_id_encrypted) if customer.tax_id_encrypted else ""
    return kyc_checks.IdentityInput(
        kind=customer.kind,
        name=customer.legal_name,
        date_of_birth=date_of_birth_of(customer),
        tax_id_type=customer.tax_id_type,
        tax_id=tax_id,
        address=(
            kyc_checks.AddressInput(
                line1=address.line1,
                city=address.city,
                state=address.state,
                postal_code=address.postal_code,
                country=address.country,
            )
            if address
            else None
        ),
    )


def check_identity(*, customer: Customer, acting_user=None) -> kyc_checks.IdentityResult:
    """Run the identity checks at the business date and audit the outcome
    ("kyc.identity_checked", a sensitive read: the tax id was decrypted)."""
    result = kyc_checks.check_identity(identity_input(customer), business_date=get_business_date())
    with transaction.atomic():
        audit.record(
            action="kyc.identity_checked",
            category=AuditCategory.SENSITIVE_READ,
            obj=customer,
            metadata={"tax_id": customer.tax_id_masked, **result.to_dict()},
            actor=actor_of(acting_user),
        )
    return result
