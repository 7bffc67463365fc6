"""The party master: a customer is a person or a business, with its tax id
encrypted at rest, its addresses and phones, contact preferences, and an
append-only history of consents.

Rows are written only by customers.services; the fields below are what is
stored, the rules about what is allowed live in customers.validators.
"""

from datetime import date

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from core import crypto
from core.models import TimeStampedModel
from customers.phones import format_phone

US_STATES: tuple[tuple[str, str], ...] = (
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("DC", "District of Columbia"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
    ("AS", "American Samoa"),
    ("GU", "Guam"),
    ("MP", "Northern Mariana Islands"),
    ("PR", "Puerto Rico"),
    ("VI", "U.S. Virgin Islands"),
    ("AA", "Armed Forces Americas"),
    ("AE", "Armed Forces Europe"),
    ("AP", "Armed Forces Pacific"),
)


class Customer(TimeStampedModel):
    """A person or a business we lend to (or may lend to: a prospect may have
    no tax id yet).

    The tax id is kept three ways: a Fernet token (`tax_id_encrypted`, only
    decrypted by services.reveal_tax_id, which audits the read), the last
    four digits for display and search, and a keyed blind index
    (`tax_id_hash`) whose partial unique constraint refuses a second customer
    with the same id without ever decrypting the table.

    The date of birth is kept the same way: a Fernet token of its ISO form
    (`date_of_birth_encrypted`) and the year alone (`birth_year`) for the
    masked display "••/••/1985". Code that needs the date (age rules,
    identity checks, the bureau pull, sanctions screening) reads it through
    `date_of_birth_of()`; staff see it only through
    services.reveal_date_of_birth, which audits the read.
    """

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        BUSINESS = "business", "Business"

    class EntityType(models.TextChoices):
        SOLE_PROPRIETORSHIP = "sole_proprietorship", "Sole proprietorship"
        PARTNERSHIP = "partnership", "Partnership"
        LLC = "llc", "Limited liability company"
        CORPORATION = "corporation", "Corporation (C corp)"
        S_CORPORATION = "s_corporation", "S corporation"
        NONPROFIT = "nonprofit", "Nonprofit"
        OTHER = "other", "Other"

    class TaxIdType(models.TextChoices):
        SSN = "ssn", "SSN"
        ITIN = "itin", "ITIN"
        EIN = "ein", "EIN"

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "Text message"
        PHONE = "phone", "Phone call"
        MAIL = "mail", "Post"

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        SPANISH = "es", "Spanish"
        CHINESE = "zh", "Chinese"
        VIETNAMESE = "vi", "Vietnamese"
        KOREAN = "ko", "Korean"
        TAGALOG = "tl", "Tagalog"

    # Null only inside the creating transaction: services.create_customer
    # inserts, then derives the number from the primary key ("C-000123"),
    # which needs no counter row (no hot row every creation would lock). NULL,
    # unlike "", lets several rows be mid-creation under the unique index.
    customer_number = models.CharField(  # noqa: DJ001
        max_length=20, unique=True, null=True, editable=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)

    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    date_of_birth_encrypted = models.TextField(blank=True, editable=False)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    business_name = models.CharField(max_length=200, blank=True)
    dba_name = models.CharField("doing business as", max_length=200, blank=True)
    entity_type = models.CharField(max_length=30, choices=EntityType.choices, blank=True)
    registration_date = models.DateField(null=True, blank=True)

    legal_name = models.CharField(max_length=300, db_index=True, editable=False)

    tax_id_type = models.CharField(max_length=4, choices=TaxIdType.choices, blank=True)
    tax_id_encrypted = models.TextField(blank=True, editable=False)
    tax_id_last4 = models.CharField(max_length=4, blank=True, db_index=True, editable=False)
    tax_id_hash = models.CharField(max_length=64, blank=True, editable=False)

    email = models.EmailField(blank=True, db_index=True)
    preferred_channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    preferred_language = models.CharField(
        max_length=5, choices=Language.choices, default=Language.ENGLISH
    )
    # Local times (the customer's primary address's zone) between which we
    # do not call or text; both empty means no preference.
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customer",
        help_text="The borrower portal account of this customer, if any.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("reveal_tax_id", "Can reveal full tax ids"),
            ("reveal_date_of_birth", "Can reveal full dates of birth"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tax_id_hash"],
                condition=Q(tax_id_hash__isnull=False) & ~Q(tax_id_hash=""),
                name="customer_tax_id_unique",
                violation_error_message="A customer with this tax id already exists.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["person", "business"]), name="customer_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(tax_id_hash="") | (~Q(tax_id_type="") & ~Q(tax_id_encrypted="")),
                name="customer_tax_id_complete",
            ),
            models.CheckConstraint(
                condition=(Q(date_of_birth_encrypted="") & Q(birth_year__isnull=True))
                | (~Q(date_of_birth_encrypted="") & Q(birth_year__isnull=False)),
                name="customer_date_of_birth_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_number or 'new'} {self.legal_name}"

    @property
    def is_person(self) -> bool:
        return self.kind == self.Kind.PERSON

    @property
    def is_business(self) -> bool:
        return self.kind == self.Kind.BUSINESS

    @property
    def display_name(self) -> str:
        if self.is_business and self.dba_name:
            return f"{self.legal_name} (d/b/a {self.dba_name})"
        return self.legal_name

    @property
    def has_tax_id(self) -> bool:
        return bool(self.tax_id_hash)

    @property
    def tax_id_masked(self) -> str:
        """The tax id with all but the last four digits hidden, in the id's
        own layout: "•••-••-1234" (SSN, ITIN) or "••-•••1234" (EIN)."""
        return mask_tax_id(self.tax_id_type, self.tax_id_last4)

    @property
    def has_date_of_birth(self) -> bool:
        return bool(self.date_of_birth_encrypted)

    @property
    def date_of_birth_masked(self) -> str:
        """The date of birth with month and day hidden: "••/••/1985"."""
        return mask_date_of_birth(self.birth_year)

    def age_on(self, day: date) -> int | None:
        """Whole years completed on `day` (None without a date of birth);
        decrypts the date in memory, never shows it."""
        birth = date_of_birth_of(self)
        if birth is None:
            return None
        return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def date_of_birth_of(customer: Customer) -> date | None:
    """The customer's date of birth, decrypted: the one accessor for code
    that needs the value (policy rules, KYC, bureau pulls, screening).

    A function rather than a model method so that no template can call it;
    pages show `date_of_birth_masked` or the audited reveal. The value must
    not be logged, rendered or stored in plain text."""
    token = customer.date_of_birth_encrypted
    return date.fromisoformat(crypto.decrypt(token)) if token else None


def mask_date_of_birth(birth_year: int | None) -> str:
    return f"••/••/{birth_year}" if birth_year else ""


def mask_tax_id(tax_id_type: str, last4: str) -> str:
    if not last4:
        return ""
    if tax_id_type == Customer.TaxIdType.EIN:
        return f"••-•••{last4}"
    return f"•••-••-{last4}"


class Address(TimeStampedModel):
    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", "Residential"
        MAILING = "mailing", "Mailing"
        BUSINESS = "business", "Business"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.RESIDENTIAL)
    line1 = models.CharField("address line 1", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2, choices=US_STATES)
    postal_code = models.CharField("ZIP code", max_length=10)
    country = models.CharField(max_length=2, default="US")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True),
                name="address_one_primary_per_customer",
            )
        ]

    def __str__(self) -> str:
        return self.one_line

    @property
    def one_line(self) -> str:
        street = ", ".join(part for part in (self.line1, self.line2) if part)
        return f"{street}, {self.city}, {self.state} {self.postal_code}"


class Phone(TimeStampedModel):
    class Kind(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        HOME = "home", "Home"
        WORK = "work", "Work"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MOBILE)
    number = models.CharField(max_length=20, help_text="E.164, e.g. +12125550123.")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True),
                name="phone_one_primary_per_customer",
            ),
            models.UniqueConstraint(
                fields=["customer", "number"], name="phone_unique_per_customer"
            ),
        ]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        return format_phone(self.number)


class Consent(models.Model):
    """One consent decision, kept forever: the current consent for a
    (channel, purpose) is its latest row. Withdrawing is a new row with
    granted=False; PostgreSQL triggers refuse updates and deletes."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "Text message"
        PHONE = "phone", "Phone call"
        MAIL = "mail", "Post"
        PORTAL = "portal", "Portal"

    class Purpose(models.TextChoices):
        SERVICING = "servicing", "Account servicing"
        MARKETING = "marketing", "Marketing"
        ELECTRONIC_RECORDS = "electronic_records", "Electronic records (E-SIGN)"
        CREDIT_REPORT = "credit_report", "Credit report"

    class Source(models.TextChoices):
        STAFF = "staff", "Staff"
        PORTAL = "portal", "Portal"
        API = "api", "API"

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="consents")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    granted = models.BooleanField()
    wording_version = models.CharField(max_length=40)
    given_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-given_at", "-id"]
        indexes = [models.Index(fields=["customer", "channel", "purpose", "-given_at"])]
        triggers = [
            pgtrigger.Protect(
                name="consent_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "withdrew"
        return f"{verb} {self.channel}/{self.purpose} ({self.wording_version})"
