"""Origination models.

KYC/AML (sanctions screening): an imported sanctions list with its entries,
and the compliance review queue of screening hits. Writes go through
origination.services.kyc.
"""

import copy
import json

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from core import crypto
from core.models import INSTALLMENT_METHODS, PRINCIPAL_ROUNDINGS, ZERO_DEFAULT, TimeStampedModel

# --- KYC / AML -----------------------------------------------------------------


class SanctionsList(models.Model):
    """One imported publication of a sanctions list (OFAC SDN legacy CSV).

    `sha256` is the digest of the imported files (see services.kyc.files_digest),
    so importing the same publication twice is a no-op. Exactly one list is
    active: the newest import (enforced by a partial unique constraint)."""

    source = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, unique=True)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entry_count = models.PositiveIntegerField()
    alias_count = models.PositiveIntegerField(default=0)
    publish_date = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-imported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="sanctions_one_active_list"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} ({self.entry_count} entries, {self.sha256[:12]})"


class SanctionsEntry(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        ENTITY = "entity", "Entity"
        VESSEL = "vessel", "Vessel"
        AIRCRAFT = "aircraft", "Aircraft"

    sanctions_list = models.ForeignKey(
        SanctionsList, on_delete=models.CASCADE, related_name="entries"
    )
    ent_num = models.IntegerField()
    name = models.CharField(max_length=350)
    normalized_name = models.CharField(max_length=350, db_index=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    programs = models.JSONField(default=list)
    # [{"alt_num", "alt_type", "name", "remarks"}]
    aliases = models.JSONField(default=list)
    # [{"text", "year_from", "year_to", "month", "day", "circa"}]
    dates_of_birth = models.JSONField(default=list)
    # [{"add_num", "address", "city", "country", "remarks"}]
    addresses = models.JSONField(default=list)
    remarks = models.TextField(blank=True)
    title = models.CharField(max_length=300, blank=True)
    # Vessel and aircraft particulars: call sign, type, tonnage, flag, owner.
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["ent_num"]
        verbose_name_plural = "sanctions entries"
        constraints = [
            models.UniqueConstraint(
                fields=["sanctions_list", "ent_num"], name="sanctions_entry_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ent_num} {self.name}"


class SanctionsHit(models.Model):
    """A screening that found potential matches: the compliance review queue.

    `matches` holds origination.sanctions.Match.to_dict() values, best first.
    A person clears (false positive) or confirms (true match) it with a
    reason; decided hits are final. `application_id` links the loan
    application that triggered the screening, if any (a plain column so the
    applications table can come in a later migration). The date of birth
    screened is kept encrypted like the customer's (Fernet token of the ISO
    date, the year alone for the masked display)."""

    class Status(models.TextChoices):
        POTENTIAL_MATCH = "potential_match", "Potential match"
        CLEARED = "cleared", "Cleared (false positive)"
        CONFIRMED = "confirmed", "Confirmed match"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="sanctions_hits"
    )
    application_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    screened_name = models.CharField(max_length=300)
    screened_dob_encrypted = models.TextField(blank=True, editable=False)
    screened_birth_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    sanctions_list = models.ForeignKey(SanctionsList, on_delete=models.PROTECT, related_name="hits")
    matches = models.JSONField(default=list)
    top_score = models.DecimalField(max_digits=5, decimal_places=1)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.POTENTIAL_MATCH, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("review_compliance", "Can review sanctions screening hits")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="potential_match")
                | (
                    Q(decided_by__isnull=False)
                    & Q(decided_at__isnull=False)
                    & ~Q(decision_reason="")
                ),
                name="sanctions_hit_decision_complete",
            )
        ]

    def __str__(self) -> str:
        return f"Hit {self.pk}: {self.screened_name} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.POTENTIAL_MATCH

    @property
    def screened_dob_masked(self) -> str:
        return f"••/••/{self.screened_birth_year}" if self.screened_birth_year else ""


# --- Products, applications, decisions, offers, signatures, funding ----------

MONEY = {"max_digits": 14, "decimal_places": 2}


def default_rule_set():
    from origination.decisioning.default_rules import DEFAULT_RULE_SET

    return copy.deepcopy(DEFAULT_RULE_SET)


def default_scorecard():
    from origination.decisioning.scorecard import DEFAULT_SCORECARD

    return copy.deepcopy(DEFAULT_SCORECARD)


class LoanProduct(TimeStampedModel):
    """A loan product as offered. Versioned: services.products.revise_product
    writes a new row (version + 1) and deactivates the old one; applications
    keep the version they were priced on."""

    code = models.SlugField(max_length=40)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    currency = models.CharField(max_length=3, default="USD")
    min_amount = models.DecimalField(**MONEY)
    max_amount = models.DecimalField(**MONEY)
    min_term = models.PositiveIntegerField(help_text="Months.")
    max_term = models.PositiveIntegerField(help_text="Months.")
    allowed_terms = models.JSONField(default=list, blank=True)
    # engine parameters (core.finance.LoanTerms / servicing.ServicingProduct names)
    repayment_every = models.PositiveSmallIntegerField(default=1)
    repayment_unit = models.CharField(max_length=15, default="months")
    interest_method = models.CharField(max_length=20, default="declining_balance")
    amortization = models.CharField(max_length=20, default="equal_installments")
    day_count = models.CharField(max_length=15, default="30/360")
    installment_multiple = models.DecimalField(max_digits=8, decimal_places=2, default="0.01")
    rounding = models.CharField(max_length=10, default="half_up")
    installment_method = models.CharField(
        max_length=24, choices=INSTALLMENT_METHODS, default="nominal_rate"
    )
    equal_principal_rounding = models.CharField(
        max_length=24, choices=PRINCIPAL_ROUNDINGS, default="cents"
    )
    # [{name, kind: percent|flat, value: str, treatment: withheld|financed|paid_separately,
    #   finance_charge: bool}]
    fees = models.JSONField(default=list, blank=True)
    # [{min_score, max_score, min_term, max_term, annual_rate: "0.1299"}]
    pricing_grid = models.JSONField(default=list, blank=True)
    # [{kind, label}]
    required_documents = models.JSONField(default=list, blank=True)
    rule_set = models.JSONField(default=default_rule_set)
    scorecard = models.JSONField(default=default_scorecard)
    servicing_product_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="Id of the servicing.ServicingProduct loans board onto."
    )
    late_fee_text = models.CharField(max_length=300, blank=True)
    auto_disburse = models.BooleanField(default=False)
    offer_valid_days = models.PositiveIntegerField(default=30)
    application_valid_days = models.PositiveIntegerField(default=60)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="loan_product_code_version"),
            models.CheckConstraint(
                condition=Q(min_amount__gt=0) & Q(max_amount__gte=models.F("min_amount")),
                name="loan_product_amount_limits",
            ),
            models.CheckConstraint(
                condition=Q(min_term__gt=0) & Q(max_term__gte=models.F("min_term")),
                name="loan_product_term_limits",
            ),
        ]
        permissions = [("manage_products", "Can create and revise loan products")]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class ApplicationState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned for information"
    IN_UNDERWRITING = "in_underwriting", "In underwriting"
    CONDITIONALLY_APPROVED = "conditionally_approved", "Conditionally approved"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    OFFER_ACCEPTED = "offer_accepted", "Offer accepted"
    DOCUMENTS_SIGNED = "documents_signed", "Documents signed"
    DISBURSED = "disbursed", "Disbursed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


S = ApplicationState
FINAL_STATES = (S.DECLINED, S.DISBURSED, S.WITHDRAWN, S.EXPIRED)
NON_FINAL_STATES = tuple(s for s in S if s not in FINAL_STATES)


class Application(FSMModelMixin, TimeStampedModel):
    """A loan application. Its state chart (drawn in the README):

        draft ─submit─► submitted ─refer─► in_underwriting
        submitted|in_underwriting ─approve_conditionally─► conditionally_approved
        submitted|in_underwriting|conditionally_approved ─approve─► approved
                                                         ─decline─► declined
                                                         ─return_for_info─► returned
        returned ─submit─► submitted
        approved ─accept_offer─► offer_accepted ─sign─► documents_signed ─disburse─► disbursed
        any non-final ─withdraw─► withdrawn;  stale ─expire─► expired

    Transitions change state only; origination.services do the rest."""

    class Channel(models.TextChoices):
        PORTAL = "portal", "Portal"
        STAFF = "staff", "Staff"
        API = "api", "API"

    class Purpose(models.TextChoices):
        DEBT_CONSOLIDATION = "debt_consolidation", "Debt consolidation"
        HOME_IMPROVEMENT = "home_improvement", "Home improvement"
        AUTO = "auto", "Auto"
        MEDICAL = "medical", "Medical"
        MAJOR_PURCHASE = "major_purchase", "Major purchase"
        BUSINESS = "business", "Business"
        OTHER = "other", "Other"

    class EmploymentStatus(models.TextChoices):
        EMPLOYED = "employed", "Employed"
        SELF_EMPLOYED = "self_employed", "Self-employed"
        RETIRED = "retired", "Retired"
        UNEMPLOYED = "unemployed", "Unemployed"
        STUDENT = "student", "Student"

    class HousingStatus(models.TextChoices):
        RENT = "rent", "Rent"
        OWN = "own", "Own"
        MORTGAGE = "mortgage", "Mortgage"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        APPROVE = "approve", "Approve"
        DECLINE = "decline", "Decline"
        REFER = "refer", "Refer"

    reference = models.CharField(max_length=20, unique=True, null=True, blank=True)
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="applications"
    )
    co_applicant = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="co_applications",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    state = FSMField(default=S.DRAFT, choices=S.choices, protected=True, db_index=True)
    requested_amount = models.DecimalField(**MONEY)
    requested_term = models.PositiveIntegerField()
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.OTHER)
    employment_status = models.CharField(
        max_length=15, choices=EmploymentStatus.choices, blank=True
    )
    employer = models.CharField(max_length=200, blank=True)
    employment_months = models.PositiveIntegerField(null=True, blank=True)
    gross_monthly_income = models.DecimalField(**MONEY, null=True, blank=True)
    housing_status = models.CharField(max_length=10, choices=HousingStatus.choices, blank=True)
    housing_cost = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    other_obligations = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_applications",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    funded_at = models.DateTimeField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    # decision outcome
    auto_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    credit_score = models.PositiveIntegerField(null=True, blank=True)
    scorecard_points = models.IntegerField(null=True, blank=True)
    dti = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    pti = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    decision_reasons = models.JSONField(default=list, blank=True)
    approved_amount = models.DecimalField(**MONEY, null=True, blank=True)
    approved_term = models.PositiveIntegerField(null=True, blank=True)
    approved_rate = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    return_reason = models.TextField(blank=True)
    withdraw_reason = models.TextField(blank=True)
    loan_number = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "submitted_at"]),
            models.Index(fields=["applicant", "state"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_amount__gt=0) & Q(requested_term__gt=0),
                name="application_requested_positive",
            )
        ]
        permissions = [
            ("underwrite_application", "Can underwrite applications"),
            ("approve_above_limit", "Can approve applications above the underwriter limit"),
            ("disburse_application", "Can disburse approved applications"),
        ]
        # "view_application" is Django's built-in view permission of this model.

    def __str__(self) -> str:
        return self.reference or f"Application {self.pk}"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    # --- state chart (transitions change state only; services do the rest) ---
    @transition(field=state, source=[S.DRAFT, S.RETURNED], target=S.SUBMITTED)
    def submit(self):
        """The applicant submitted (or resubmitted) the application."""

    @transition(field=state, source=S.SUBMITTED, target=S.IN_UNDERWRITING)
    def refer(self):
        """The automatic decision referred it to an underwriter."""

    @transition(
        field=state,
        source=[S.SUBMITTED, S.IN_UNDERWRITING, S.CONDITIONALLY_APPROVED],
        target=S.RETURNED,
    )
    def return_for_info(self):
        """More information is needed from the applicant."""

    @transition(
        field=state,
        source=[S.SUBMITTED, S.IN_UNDERWRITING, S.CONDITIONALLY_APPROVED],
        target=S.APPROVED,
    )
    def approve(self):
        """Approved (automatically or by an underwriter)."""

    @transition(
        field=state, source=[S.SUBMITTED, S.IN_UNDERWRITING], target=S.CONDITIONALLY_APPROVED
    )
    def approve_conditionally(self):
        """Approved subject to open conditions."""

    @transition(
        field=state,
        source=[S.SUBMITTED, S.IN_UNDERWRITING, S.CONDITIONALLY_APPROVED],
        target=S.DECLINED,
    )
    def decline(self):
        """Declined (an adverse action notice follows)."""

    @transition(field=state, source=S.APPROVED, target=S.OFFER_ACCEPTED)
    def accept_offer(self):
        """The applicant accepted the offer."""

    @transition(field=state, source=S.OFFER_ACCEPTED, target=S.DOCUMENTS_SIGNED)
    def sign(self):
        """The applicant signed the disclosures and agreement."""

    @transition(field=state, source=S.DOCUMENTS_SIGNED, target=S.DISBURSED)
    def disburse(self):
        """Funds sent; the loan is boarded into servicing."""

    @transition(field=state, source=list(NON_FINAL_STATES), target=S.WITHDRAWN)
    def withdraw(self):
        """The applicant (or staff on their behalf) withdrew."""

    @transition(
        field=state,
        source=[
            S.DRAFT,
            S.SUBMITTED,
            S.RETURNED,
            S.APPROVED,
            S.CONDITIONALLY_APPROVED,
            S.OFFER_ACCEPTED,
        ],
        target=S.EXPIRED,
    )
    def expire(self):
        """Stale past its validity."""


class ApplicationEvent(models.Model):
    """The application's status timeline (append-only)."""

    id = models.BigAutoField(primary_key=True)
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["application", "at", "id"]
        triggers = [
            pgtrigger.Protect(
                name="application_event_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_state or '-'} -> {self.to_state}"


class Consent(models.Model):
    class Kind(models.TextChoices):
        CREDIT_PULL = "credit_pull", "Credit report pull"
        E_RECORDS = "e_records", "Electronic records"
        PRIVACY = "privacy", "Privacy notice"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    wording_version = models.CharField(max_length=20)
    text = models.TextField()
    given_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["application", "given_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.wording_version}"


class ApplicationDocument(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=40)
    file = models.FileField(upload_to="applications/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    rejection_reason = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "kind", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.original_name} ({self.status})"


class BureauPull(models.Model):
    """One credit report pull. The report as the bureau sent it (which names
    the subject, their date of birth and every account) is stored only as a
    Fernet token (`raw_encrypted`, read through `bureau_report_of()`);
    `summary` keeps in plain JSON the parsed figures pages and notices show
    (score, model, key factors, delinquency counts, obligations, file age,
    counts of trade lines, inquiries and public records:
    origination.decisioning.bureau.report_summary). Staff read the full
    report only through services.bureau_reports.reveal_bureau_report, which
    audits the read."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        NO_HIT = "no_hit", "No hit"
        UNAVAILABLE = "unavailable", "Unavailable"

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="bureau_pulls"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="bureau_pulls"
    )
    bureau = models.CharField(max_length=40)
    status = models.CharField(max_length=12, choices=Status.choices)
    attempts = models.PositiveSmallIntegerField(default=1)
    raw_encrypted = models.TextField(blank=True, editable=False)
    summary = models.JSONField(default=dict, blank=True)
    score = models.PositiveIntegerField(null=True, blank=True)
    pulled_at = models.DateTimeField()

    class Meta:
        ordering = ["-pulled_at", "-id"]
        permissions = [("reveal_bureau_report", "Can see full credit bureau reports")]

    def __str__(self) -> str:
        return f"{self.bureau} {self.status} ({self.score})"


def encrypt_report(raw: dict) -> str:
    """The Fernet token of a raw report (compact JSON, keys sorted)."""
    return crypto.encrypt(json.dumps(raw, sort_keys=True, separators=(",", ":")))


def bureau_report_of(pull: BureauPull) -> dict | None:
    """The raw report of `pull`, decrypted: the one accessor for code that
    needs it (never for display without the audited reveal)."""
    return json.loads(crypto.decrypt(pull.raw_encrypted)) if pull.raw_encrypted else None


class DecisionRecord(models.Model):
    """One decision on an application with its full evidence (append-only)."""

    class Kind(models.TextChoices):
        AUTOMATIC = "automatic", "Automatic"
        UNDERWRITER = "underwriter", "Underwriter"
        OVERRIDE = "override", "Override"
        COUNTER_OFFER = "counter_offer", "Counter-offer"

    class Outcome(models.TextChoices):
        APPROVE = "approve", "Approve"
        DECLINE = "decline", "Decline"
        REFER = "refer", "Refer"
        CONDITIONAL = "conditional", "Conditional approval"

    id = models.BigAutoField(primary_key=True)
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reasons = models.JSONField(default=list, blank=True)
    trace = models.JSONField(default=dict, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    rule_set_version = models.CharField(max_length=60, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "created_at", "id"]
        triggers = [
            pgtrigger.Protect(
                name="decision_record_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.outcome}"


class Condition(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SATISFIED = "satisfied", "Satisfied"
        WAIVED = "waived", "Waived"

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="conditions"
    )
    text = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["application", "id"]

    def __str__(self) -> str:
        return f"{self.text[:60]} ({self.status})"


class Offer(models.Model):
    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        SUPERSEDED = "superseded", "Superseded"
        EXPIRED = "expired", "Expired"

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="offers")
    amount = models.DecimalField(**MONEY)
    term = models.PositiveIntegerField()
    annual_rate = models.DecimalField(max_digits=9, decimal_places=6)
    apr = models.DecimalField(max_digits=9, decimal_places=4, help_text="Percent.")
    payment = models.DecimalField(**MONEY)
    finance_charge = models.DecimalField(**MONEY)
    amount_financed = models.DecimalField(**MONEY)
    total_of_payments = models.DecimalField(**MONEY)
    fees = models.JSONField(default=list, blank=True)
    schedule = models.JSONField(default=list, blank=True)
    first_payment_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OFFERED)
    expires_on = models.DateField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "-id"]

    def __str__(self) -> str:
        return f"{self.amount} x {self.term} @ {self.annual_rate} ({self.status})"


class GeneratedDocument(models.Model):
    class Kind(models.TextChoices):
        TILA_DISCLOSURE = "tila_disclosure", "Truth in Lending disclosure"
        LOAN_AGREEMENT = "loan_agreement", "Loan agreement"
        ADVERSE_ACTION = "adverse_action", "Adverse action notice"
        SIGNED_PACKAGE = "signed_package", "Signed package"

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="generated_documents"
    )
    offer = models.ForeignKey(
        Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to="generated/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.sha256[:12]})"


class Signature(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="signatures"
    )
    document = models.ForeignKey(
        GeneratedDocument, on_delete=models.PROTECT, related_name="signatures"
    )
    signed_document = models.ForeignKey(
        GeneratedDocument,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signed_signatures",
    )
    typed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    shown_sha256 = models.CharField(max_length=64)
    consent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "id"]

    def __str__(self) -> str:
        return f"{self.typed_name} at {self.signed_at:%Y-%m-%d %H:%M}"


class DisbursementBatch(models.Model):
    business_date = models.DateField(unique=True)
    file_text = models.TextField()
    sha256 = models.CharField(max_length=64)
    entry_count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-business_date"]

    def __str__(self) -> str:
        return f"Disbursements {self.business_date} ({self.entry_count})"


class Disbursement(models.Model):
    class AccountType(models.TextChoices):
        CHECKING = "checking", "Checking"
        SAVINGS = "savings", "Savings"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="disbursement"
    )
    amount = models.DecimalField(**MONEY, help_text="Net of withheld fees.")
    routing_number = models.CharField(max_length=9)
    account_last4 = models.CharField(max_length=4)
    account_number_encrypted = models.TextField()
    account_type = models.CharField(
        max_length=10, choices=AccountType.choices, default=AccountType.CHECKING
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    trace_number = models.CharField(max_length=15, blank=True)
    rail = models.CharField(
        max_length=20, blank=True, help_text="The payment rail that took the credit."
    )
    rail_reference = models.CharField(
        max_length=64, blank=True, help_text="The rail's reference for the credit."
    )
    batch = models.ForeignKey(
        DisbursementBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disbursements",
    )
    disbursed_on = models.DateField()
    loan_number = models.CharField(max_length=20, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-disbursed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.amount} to ****{self.account_last4} ({self.status})"
