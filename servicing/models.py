"""Servicing: products' servicing settings, the chart of accounts, loans and
their schedules, the events that happen to a loan, and the double-entry
ledger that records every money movement.

The source of truth is two append-only histories:

- `LoanEvent`: what happened (a payment received, a fee assessed, a waiver,
  a refund, a modification, a reversal), each with an effective date. The
  loan's allocation state is a pure function of its terms and these events
  (core.finance.servicing.replay).
- `JournalEntry` / `Posting`: the money, as balanced double-entry postings.
  After any event the services replay the loan and post the *difference*
  between what the events should have posted and what the ledger holds, so
  backdated payments and reversals never edit a row.

Everything else on a loan (balances, instalment status, days past due) is a
cache that `manage.py verify_ledger` re-derives and compares.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import INSTALLMENT_METHODS, PRINCIPAL_ROUNDINGS, ZERO_DEFAULT, TimeStampedModel

MONEY = {"max_digits": 14, "decimal_places": 2}


class GLAccount(models.Model):
    """A general-ledger account. Balances are never stored here: they are
    sums of postings (no hot counter row)."""

    class Kind(models.TextChoices):
        ASSET = "asset", "Asset"
        LIABILITY = "liability", "Liability"
        INCOME = "income", "Income"
        EXPENSE = "expense", "Expense"

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = "GL account"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def normal_debit(self) -> bool:
        return self.kind in (self.Kind.ASSET, self.Kind.EXPENSE)


class AccountRole(models.TextChoices):
    """What a GL account is used for; each product maps every role to an account."""

    PRINCIPAL = "principal_receivable", "Loan principal receivable"
    INTEREST = "interest_receivable", "Interest receivable"
    ACCRUED_INTEREST = "accrued_interest", "Accrued interest receivable (not yet due)"
    FEES = "fees_receivable", "Fees receivable"
    PENALTIES = "penalties_receivable", "Penalties receivable"
    INTEREST_INCOME = "interest_income", "Interest income"
    FEE_INCOME = "fee_income", "Fee income"
    CASH = "cash_clearing", "Cash clearing"
    UNAPPLIED = "unapplied_funds", "Unapplied funds"
    OVERPAYMENT = "overpayment_liability", "Overpayment liability"
    CHARGE_OFF = "charge_off_expense", "Charge-off expense"
    RECOVERY = "recovery_income", "Recovery income"


class ServicingProduct(TimeStampedModel):
    """How loans of a product are serviced. Versioned: a change is a new
    version; loans keep the version they were boarded on."""

    class LateFeeType(models.TextChoices):
        NONE = "none", "No late fee"
        FLAT = "flat", "Flat amount"
        PERCENT = "percent", "Percent of the late instalment"

    code = models.SlugField(max_length=40)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)
    # engine parameters for schedules of this product
    interest_method = models.CharField(max_length=20, default="declining_balance")
    amortization = models.CharField(max_length=20, default="equal_installments")
    day_count = models.CharField(max_length=15, default="30/360")
    repayment_every = models.PositiveSmallIntegerField(default=1)
    repayment_unit = models.CharField(max_length=15, default="months")
    installment_multiple = models.DecimalField(max_digits=8, decimal_places=2, default="0.01")
    rounding = models.CharField(max_length=10, default="half_up")
    installment_method = models.CharField(
        max_length=24,
        choices=INSTALLMENT_METHODS,
        default="nominal_rate",
        help_text="How the equal instalment is solved: one nominal periodic rate, or each "
        "period's own rate from its days (Fineract's progressive schedule), optionally with "
        "its EMI adjustment.",
    )
    equal_principal_rounding = models.CharField(
        max_length=24,
        choices=PRINCIPAL_ROUNDINGS,
        default="cents",
        help_text="Equal-principal schedules: the principal part to the cent (the instalment "
        "multiple rounds equal instalments only), or to the instalment multiple.",
    )
    # allocation waterfall
    allocation_order = models.JSONField(default=list, help_text="Components in order.")
    allocation_method = models.CharField(max_length=12, default="horizontal")
    prepayment_mode = models.CharField(max_length=20, default="reduce_term")
    excess_default = models.CharField(max_length=12, default="prepayment")
    # fees
    late_fee_type = models.CharField(max_length=10, choices=LateFeeType.choices, default="flat")
    late_fee_amount = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    late_fee_percent = models.DecimalField(max_digits=6, decimal_places=4, default="0")
    late_fee_grace_days = models.PositiveSmallIntegerField(
        "late fee grace (days)",
        default=10,
        help_text="No late fee until the payment is more than this many days late "
        "(10: a payment due on the 1st is charged a late fee if it is not paid in full "
        "by the 11th). The payment is its principal and interest: unpaid fees never make "
        "it late.",
    )
    late_fee_cap = models.DecimalField(**MONEY, null=True, blank=True)
    nsf_fee_amount = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    # life events
    charge_off_days_past_due = models.PositiveSmallIntegerField(default=120)
    arrears_grace_days = models.PositiveSmallIntegerField(
        "arrears grace (days)",
        default=0,
        help_text="Delinquent days are the days past due beyond this many. Days past due "
        "always count from the due date of the oldest unpaid periodic payment "
        "(principal and interest), without any grace.",
    )
    statement_cycle_day = models.PositiveSmallIntegerField(
        default=1,
        help_text="Day of the month statements are dated (1-28), or 0 for each loan's own "
        "due day, which spreads a book's statements over the month.",
    )
    modification_approval_limit = models.DecimalField(
        **MONEY,
        default="5000.00",
        help_text="Modifications moving more than this need a manager's approval.",
    )

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="product_code_version"),
            models.CheckConstraint(
                condition=Q(statement_cycle_day__gte=0, statement_cycle_day__lte=28),
                name="product_cycle_day_0_28",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class ProductAccount(models.Model):
    """A product's chart of accounts: the GL account for each role."""

    product = models.ForeignKey(ServicingProduct, on_delete=models.CASCADE, related_name="accounts")
    role = models.CharField(max_length=30, choices=AccountRole.choices)
    account = models.ForeignKey(GLAccount, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "role"], name="product_account_role")
        ]

    def __str__(self) -> str:
        return f"{self.role} -> {self.account_id}"


# A loan's primary borrower party: role "borrower" and the loan's customer.
# Raised as a check violation (SQLSTATE 23514) so Django reports an IntegrityError.
PRIMARY_BORROWER_CHECK = """
IF EXISTS (SELECT 1 FROM servicing_loan l WHERE l.id = {loan}) AND NOT EXISTS (
    SELECT 1 FROM servicing_loan l
    JOIN servicing_loanparty p
      ON p.loan_id = l.id AND p.customer_id = l.customer_id AND p.role = 'borrower'
    WHERE l.id = {loan}
) THEN
    RAISE EXCEPTION 'Loan % has no primary borrower party', {loan} USING ERRCODE = '23514';
END IF;
RETURN NULL;
"""


class LoanState(models.TextChoices):
    ACTIVE = "active", "Active"
    OVERPAID = "overpaid", "Overpaid"
    PAID_OFF = "paid_off", "Paid off"
    CHARGED_OFF = "charged_off", "Charged off"
    CLOSED = "closed", "Closed"


class Loan(FSMModelMixin, TimeStampedModel):
    """A funded loan. Its state chart (drawn in the README):

        active ──pay_off──► paid_off ──close──► closed
          │  ▲                                    ▲
          │  └─reopen (reversal)                  │
          ├──overpay──► overpaid ──refund_credit──┤ (to paid_off, then closed)
          └──charge_off──► charged_off ──close────┘

    Delinquency is measured (days_past_due), not a state."""

    loan_number = models.CharField(max_length=20, unique=True)
    origination_reference = models.CharField(
        max_length=64, unique=True, help_text="The originating application's reference."
    )
    # db_index=False where a composite index already leads with the column:
    # every index is paid for on each daily write at portfolio scale.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="loans", db_index=False
    )
    product = models.ForeignKey(ServicingProduct, on_delete=models.PROTECT, related_name="loans")
    state = FSMField(default=LoanState.ACTIVE, choices=LoanState.choices, protected=True)
    currency = models.CharField(max_length=3, default="USD")
    # approved terms, as boarded
    principal = models.DecimalField(**MONEY)
    annual_rate = models.DecimalField(max_digits=9, decimal_places=6)
    term = models.PositiveIntegerField()
    disbursement_date = models.DateField()
    first_payment_date = models.DateField()
    disbursed_amount = models.DecimalField(**MONEY)
    terms = models.JSONField(help_text="The full engine terms (core.finance.LoanTerms) as boarded.")
    prepayment_mode = models.CharField(max_length=20, default="reduce_term")
    # cached balances, re-derived by verify_ledger
    principal_balance = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    interest_balance = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    fees_balance = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    penalties_balance = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    unapplied_balance = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    overpayment_balance = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    days_past_due = models.PositiveIntegerField(
        default=0,
        help_text="Days since the due date of the oldest periodic payment (principal and "
        "interest) not paid in full; fees do not count (Regulation X, 12 CFR 1024.31).",
    )
    delinquent_days = models.PositiveIntegerField(
        default=0, help_text="Days past due beyond the product's arrears grace."
    )
    next_due_date = models.DateField(null=True, blank=True)
    next_due_amount = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    accrued_interest = models.DecimalField(
        **MONEY,
        default=ZERO_DEFAULT,
        help_text="Interest accrued day by day by end of day on the current period's "
        "instalment, not yet due (the 'daily:' entries not yet moved to due).",
    )
    arrears_since = models.DateField(
        null=True,
        blank=True,
        help_text="Due date of the oldest periodic payment (principal and interest) not "
        "paid in full: days past due count from it.",
    )
    closed_through = models.DateField(
        null=True,
        blank=True,
        help_text="The last business date end of day has closed for this loan.",
    )
    # boarding
    underwriting_notes = models.TextField(blank=True)
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text="Origination's conditions as boarded: text, status, note, reference.",
    )
    documents = models.JSONField(default=list, blank=True)
    party_customers = models.ManyToManyField(
        "customers.Customer",
        through="LoanParty",
        related_name="party_loans",
        help_text="Every party of the loan (borrower, co-borrowers, guarantors).",
    )
    boarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "days_past_due"]),
            models.Index(fields=["customer", "state"]),
        ]
        permissions = [
            ("post_payment", "Can post payments"),
            ("reverse_payment", "Can reverse payments"),
            ("assess_fee", "Can assess and waive fees"),
            ("modify_loan", "Can propose loan modifications"),
            ("approve_modification", "Can approve modifications above the limit"),
            ("charge_off_loan", "Can charge off loans and post recoveries"),
            ("refund_credit", "Can refund credit balances"),
            ("import_files", "Can import boarding, payment and ACH return files"),
        ]
        triggers = [
            # Checked at commit, when boarding has written the loan's parties.
            pgtrigger.Trigger(
                name="loan_has_primary_borrower",
                operation=pgtrigger.Insert | pgtrigger.UpdateOf("customer_id"),
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                func=PRIMARY_BORROWER_CHECK.format(loan="NEW.id"),
            )
        ]

    @property
    def statement_cycle_day(self) -> int:
        """The day of the month this loan's statements are dated: the
        product's, or with a product cycle of 0 the loan's own due day (the
        28th for due days after it, so every month has one)."""
        return self.product.statement_cycle_day or min(self.first_payment_date.day, 28)

    def __str__(self) -> str:
        return self.loan_number

    @property
    def total_outstanding(self):
        return (
            self.principal_balance
            + self.interest_balance
            + self.fees_balance
            + self.penalties_balance
            - self.unapplied_balance
        )

    # --- state chart (transitions change state only; services do the rest) ---
    @transition(field=state, source=LoanState.ACTIVE, target=LoanState.PAID_OFF)
    def pay_off(self):
        """All owed is paid and no credit remains."""

    @transition(field=state, source=LoanState.ACTIVE, target=LoanState.OVERPAID)
    def overpay(self):
        """All owed is paid and a credit balance remains to refund."""

    @transition(field=state, source=LoanState.OVERPAID, target=LoanState.PAID_OFF)
    def refund_credit(self):
        """The credit balance was refunded."""

    @transition(
        field=state, source=[LoanState.PAID_OFF, LoanState.OVERPAID], target=LoanState.ACTIVE
    )
    def reopen(self):
        """A reversal left money owing again."""

    @transition(field=state, source=LoanState.ACTIVE, target=LoanState.CHARGED_OFF)
    def charge_off(self):
        """The balance is written off to charge-off expense."""

    @transition(
        field=state, source=[LoanState.PAID_OFF, LoanState.CHARGED_OFF], target=LoanState.CLOSED
    )
    def close(self):
        """No further activity is expected."""


class PartyRole(models.TextChoices):
    BORROWER = "borrower", "Borrower"
    CO_BORROWER = "co_borrower", "Co-borrower"
    GUARANTOR = "guarantor", "Guarantor"


# Roles that owe the debt: they see the loan in the portal, are named on
# statements and payoff letters and get the borrower's e-mail notices.
BORROWER_ROLES = (PartyRole.BORROWER, PartyRole.CO_BORROWER)


class LoanParty(models.Model):
    """A customer's part in a loan, created by boarding (servicing.boarding).

    Exactly one party per loan is the primary borrower: role "borrower",
    ordering 0, the same customer as `Loan.customer` (which stays the loan's
    primary borrower for everything addressed to one person: the ACH name,
    searches, the customer page). Co-borrowers and guarantors follow in the
    order origination gave them (ordering 1, 2, ...). A customer is a party
    of a loan at most once."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="parties")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="loan_parties"
    )
    role = models.CharField(max_length=15, choices=PartyRole.choices)
    ordering = models.PositiveSmallIntegerField(help_text="0 for the primary borrower.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["loan", "ordering"]
        verbose_name_plural = "loan parties"
        indexes = [models.Index(fields=["customer", "loan"], name="loan_party_customer_loan")]
        constraints = [
            models.UniqueConstraint(fields=["loan", "customer"], name="loan_party_loan_customer"),
            models.UniqueConstraint(fields=["loan", "ordering"], name="loan_party_loan_ordering"),
            # With the unique (loan, ordering): at most one primary borrower.
            models.CheckConstraint(
                condition=Q(role="borrower", ordering=0)
                | (~Q(role="borrower") & Q(ordering__gt=0)),
                name="loan_party_primary_borrower_first",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["borrower", "co_borrower", "guarantor"]),
                name="loan_party_role_valid",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="loan_party_keeps_primary_borrower",
                operation=pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                func=PRIMARY_BORROWER_CHECK.format(loan="OLD.loan_id"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.customer_id} of loan {self.loan_id}"

    @property
    def is_borrower(self) -> bool:
        return self.role in BORROWER_ROLES


class Installment(models.Model):
    """The loan's current schedule with what has been paid: a projection of
    the replay, rewritten after each event (re-derivable, never the source)."""

    class Status(models.TextChoices):
        NOT_DUE = "not_due", "Not due"
        DUE = "due", "Due"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        PAST_DUE = "past_due", "Past due"
        PAID = "paid", "Paid"

    loan = models.ForeignKey(
        Loan, on_delete=models.CASCADE, related_name="installments", db_index=False
    )
    number = models.PositiveIntegerField()
    due_date = models.DateField()
    principal_due = models.DecimalField(**MONEY)
    interest_due = models.DecimalField(**MONEY)
    fees_due = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    penalties_due = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    principal_paid = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    interest_paid = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    fees_paid = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    penalties_paid = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.NOT_DUE)

    class Meta:
        ordering = ["loan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "number"], name="installment_loan_number")
        ]
        indexes = [
            # end of day: a loan's current period (the first row due after a date)
            models.Index(fields=["loan", "due_date", "number"], name="installment_loan_due"),
            # end of day: the rows falling due (few, whatever the size of the book)
            models.Index(
                fields=["due_date"],
                name="installment_coming_due",
                condition=Q(status__in=["not_due", "due"]),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} due {self.due_date}"

    @property
    def total_due(self):
        return self.principal_due + self.interest_due + self.fees_due + self.penalties_due

    @property
    def total_paid(self):
        return self.principal_paid + self.interest_paid + self.fees_paid + self.penalties_paid


class DelinquencyDay(models.Model):
    """A delinquent loan's position at the close of one business date,
    written by end of day (servicing.eod): days past due and delinquent days
    as measured that evening, and what was past due. A loan with no row for
    a date was not past due then, so the table holds the delinquent part of
    the book only (reports read it as of any past date)."""

    id = models.BigAutoField(primary_key=True)
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="delinquency_days")
    business_date = models.DateField()
    days_past_due = models.PositiveIntegerField()
    delinquent_days = models.PositiveIntegerField(default=0)
    oldest_due_date = models.DateField()
    amount_past_due = models.DecimalField(**MONEY, help_text="Principal and interest past due.")
    principal_balance = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["business_date", "loan"]
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "loan"], name="delinquency_day_date_loan"
            )
        ]
        indexes = [models.Index(fields=["loan", "business_date"])]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.business_date}: {self.days_past_due} days past due"


class LoanEvent(models.Model):
    """Something that happened to a loan, kept forever (append-only). A
    reversal is a new event naming the one it cancels."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        FEE = "fee", "Fee assessed"
        WAIVER = "waiver", "Fee waived"
        REFUND = "refund", "Refund"
        MODIFICATION = "modification", "Modification"
        REVERSAL = "reversal", "Reversal"
        CHARGE_OFF = "charge_off", "Charge-off"
        RECOVERY = "recovery", "Recovery"

    id = models.BigAutoField(primary_key=True)
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    effective_date = models.DateField()
    amount = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    details = models.JSONField(default=dict, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["loan", "effective_date", "id"]
        indexes = [models.Index(fields=["loan", "effective_date", "id"])]
        triggers = [
            pgtrigger.Protect(
                name="loan_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} on {self.effective_date}"


class Payment(TimeStampedModel):
    """A payment received: how it came and its fate. Its money is its
    LoanEvent plus the journal entries that realise it."""

    class Method(models.TextChoices):
        CASH = "cash", "Cash"
        CHECK = "check", "Check"
        ACH = "ach", "ACH"
        CARD = "card", "Card"

    class Channel(models.TextChoices):
        STAFF = "staff", "Staff"
        PORTAL = "portal", "Borrower portal"
        API = "api", "API"
        BATCH = "batch", "Batch file"
        AUTOPAY = "autopay", "Autopay"

    class Status(models.TextChoices):
        POSTED = "posted", "Posted"
        REVERSED = "reversed", "Reversed"

    class ReversalReason(models.TextChoices):
        NSF = "nsf", "Returned: insufficient funds (NSF)"
        CHARGEBACK = "chargeback", "Card chargeback"
        POSTING_ERROR = "posting_error", "Posting error"
        ACH_RETURN = "ach_return", "ACH return"

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="payments")
    event = models.OneToOneField(LoanEvent, on_delete=models.PROTECT, related_name="payment")
    amount = models.DecimalField(**MONEY)
    received_on = models.DateField(help_text="Effective date.")
    method = models.CharField(max_length=10, choices=Method.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    reference = models.CharField(max_length=100, blank=True)
    excess = models.CharField(max_length=12, default="prepayment")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.POSTED)
    reversal_reason = models.CharField(max_length=15, choices=ReversalReason.choices, blank=True)
    reversal_event = models.OneToOneField(
        LoanEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive")]


class JournalEntry(models.Model):
    """One money event as balanced postings. Never updated or deleted
    (database triggers); a correction is a further entry."""

    class Type(models.TextChoices):
        DISBURSEMENT = "disbursement", "Disbursement"
        PAYMENT = "payment", "Payment"
        REAPPLICATION = "reapplication", "Re-application after a backdated change"
        REVERSAL = "reversal", "Reversal"
        ACCRUAL = "accrual", "Interest accrual"
        FEE_ASSESSED = "fee_assessed", "Fee assessed"
        FEE_WAIVED = "fee_waived", "Fee waived"
        MODIFICATION = "modification", "Modification"
        CHARGE_OFF = "charge_off", "Charge-off"
        RECOVERY = "recovery", "Recovery"
        REFUND = "refund", "Refund"
        CREDIT_APPLIED = "credit_applied", "Credit applied"

    id = models.BigAutoField(primary_key=True)
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="journal_entries", db_index=False
    )
    entry_type = models.CharField(max_length=20, choices=Type.choices)
    effective_date = models.DateField()
    booked_at = models.DateTimeField(auto_now_add=True)
    event = models.ForeignKey(
        LoanEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    source = models.CharField(
        max_length=60,
        help_text="What the entry realises: 'event:<id>', 'accrual:<n>', 'daily:<date>', "
        "'credit:<date>', 'disbursement', 'charge_off'. "
        "Entries of one source sum to its current effect.",
    )
    key = models.CharField(max_length=80, help_text="Natural idempotency key within the loan.")
    memo = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["loan", "effective_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "key"], name="journal_entry_loan_key")
        ]
        indexes = [models.Index(fields=["loan", "source"])]
        triggers = [
            pgtrigger.Protect(
                name="journal_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_entry_type_display()} {self.effective_date}"


class Component(models.TextChoices):
    PRINCIPAL = "principal", "Principal"
    INTEREST = "interest", "Interest"
    FEES = "fees", "Fees"
    PENALTIES = "penalties", "Penalties"
    UNAPPLIED = "unapplied", "Unapplied credit"
    OVERPAYMENT = "overpayment", "Overpayment"
    NONE = "", "—"


class Posting(models.Model):
    """One side of a journal entry. Exactly one of debit/credit is positive.
    PostgreSQL refuses UPDATE/DELETE and any INSERT that leaves an entry's
    debits and credits different (a statement-level trigger)."""

    id = models.BigAutoField(primary_key=True)
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="postings", db_index=False
    )
    account = models.ForeignKey(
        GLAccount, on_delete=models.PROTECT, related_name="postings", db_index=False
    )
    component = models.CharField(max_length=12, choices=Component.choices, blank=True)
    installment_number = models.PositiveIntegerField(null=True, blank=True)
    debit = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    credit = models.DecimalField(**MONEY, default=ZERO_DEFAULT)
    effective_date = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["loan", "effective_date"]),
            models.Index(fields=["account", "effective_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(credit__gt=0) & Q(debit=0)),
                name="posting_one_sided_positive",
            )
        ]
        triggers = [
            pgtrigger.Protect(
                name="posting_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
            # One check per INSERT statement (post_entries writes all of an
            # entry's postings in one COPY) over the entries it touched,
            # instead of a deferred check per posting row at commit. The
            # LATERAL sum runs per touched entry on the entry_id index, so
            # the check costs the same on a million postings as on ten (a
            # semi-join lets the planner pick a scan of the whole table).
            pgtrigger.Trigger(
                name="posting_entry_balanced",
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                level=pgtrigger.Statement,
                referencing=pgtrigger.Referencing(new="new_postings"),
                declare=[("unbalanced", "bigint")],
                func="""
                    SELECT e.entry_id INTO unbalanced
                    FROM (SELECT DISTINCT entry_id FROM new_postings) e
                    CROSS JOIN LATERAL (
                        SELECT SUM(p.debit) AS debit, SUM(p.credit) AS credit
                        FROM servicing_posting p
                        WHERE p.entry_id = e.entry_id
                    ) s
                    WHERE s.debit <> s.credit
                    LIMIT 1;
                    IF unbalanced IS NOT NULL THEN
                        RAISE EXCEPTION 'journal entry % is unbalanced', unbalanced
                            USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NULL;
                """,
            ),
        ]

    def __str__(self) -> str:
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"{side} account {self.account_id}"


class PayoffQuote(models.Model):
    """A payoff figure given to a borrower: what settles the loan on
    `good_through`, itemised, with the letter sent (PDF bytes and SHA-256)."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="payoff_quotes")
    quoted_on = models.DateField(help_text="Business date the quote was made.")
    good_through = models.DateField()
    amount = models.DecimalField(**MONEY)
    per_diem = models.DecimalField(**MONEY)
    itemisation = models.JSONField(help_text="Amounts as strings, by component.")
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Payoff {self.amount} good through {self.good_through}"


class Modification(TimeStampedModel):
    """A proposed change of a loan's terms. Applied at once when its impact
    is within the product's approval limit, else it waits for a second
    person (four eyes) to approve or reject it."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Awaiting approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        APPLIED = "applied", "Applied"

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="modifications")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    effective_date = models.DateField()
    parameters = models.JSONField(help_text="The modification's parameters (JSON-safe).")
    preview = models.JSONField(help_text="Old and new schedules and totals when proposed.")
    impact = models.DecimalField(**MONEY)
    requires_approval = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    event = models.OneToOneField(
        LoanEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="modification"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Modification of {self.loan_id} effective {self.effective_date}"


class Statement(models.Model):
    """A billing statement for the cycle ending `statement_date`; one per
    loan and date (idempotent by the unique constraint)."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="statements")
    statement_date = models.DateField()
    period_start = models.DateField()
    period_end = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    amount_due = models.DecimalField(**MONEY)
    past_due_amount = models.DecimalField(**MONEY)
    amounts = models.JSONField(help_text="Breakdown and activity, amounts as strings.")
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["loan", "-statement_date"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "statement_date"], name="statement_loan_date")
        ]

    def __str__(self) -> str:
        return f"Statement {self.statement_date}"


# ---------------------------------------------------------------------------
# Files and autopay (servicing.services.autopay / servicing.services.imports):
# ACH debit authorisations, the NACHA files sent, their entries, and a record
# of every file imported.
# ---------------------------------------------------------------------------


class AutopayAuthorization(TimeStampedModel):
    """A borrower's standing authorisation to debit a bank account for the
    loan's instalments (NACHA PPD). The account number is encrypted at rest
    (core.crypto); only its last four digits are shown. At most one active
    authorisation per loan; a cancelled one is kept as evidence."""

    class AccountType(models.TextChoices):
        CHECKING = "checking", "Checking"
        SAVINGS = "savings", "Savings"

    class AmountRule(models.TextChoices):
        SCHEDULED = "scheduled", "The scheduled instalment"
        FIXED = "fixed", "A fixed amount"

    class Channel(models.TextChoices):
        STAFF = "staff", "Staff (recorded authorisation)"
        PORTAL = "portal", "Borrower portal"

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="autopay_authorizations")
    routing_number = models.CharField(max_length=9)
    account_number_encrypted = models.TextField()
    account_last4 = models.CharField(max_length=4)
    account_type = models.CharField(max_length=10, choices=AccountType.choices)
    amount_rule = models.CharField(max_length=10, choices=AmountRule.choices, default="scheduled")
    fixed_amount = models.DecimalField(**MONEY, null=True, blank=True)
    authorization_text_version = models.CharField(max_length=20)
    authorized_at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"], condition=Q(active=True), name="autopay_one_active_per_loan"
            ),
            models.CheckConstraint(
                condition=Q(amount_rule="scheduled", fixed_amount__isnull=True)
                | Q(amount_rule="fixed", fixed_amount__gt=0),
                name="autopay_amount_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"Autopay {self.loan_id} ····{self.account_last4}"


class AchBatchFile(models.Model):
    """A NACHA file of autopay debits, kept verbatim for download and audit."""

    file_date = models.DateField(help_text="The business date collected.")
    file_id_modifier = models.CharField(max_length=1)
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    entry_count = models.PositiveIntegerField()
    total_amount = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-file_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["file_date", "file_id_modifier"], name="ach_file_date_modifier"
            )
        ]

    def __str__(self) -> str:
        return f"ACH {self.file_date} {self.file_id_modifier}"

    @property
    def filename(self) -> str:
        return f"ach-{self.file_date:%Y%m%d}-{self.file_id_modifier}.txt"


class AchEntry(models.Model):
    """One autopay debit: the payment posted for it and its fate at the bank.
    Unique per authorisation and collection date, so re-running a day adds
    nothing; the trace number is what a return names."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        RETURNED = "returned", "Returned"

    id = models.BigAutoField(primary_key=True)
    file = models.ForeignKey(
        AchBatchFile, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    authorization = models.ForeignKey(
        AutopayAuthorization, on_delete=models.PROTECT, related_name="entries"
    )
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="ach_entry")
    collection_date = models.DateField()
    trace_number = models.CharField(max_length=15, unique=True, null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    return_code = models.CharField(max_length=3, blank=True)
    returned_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["authorization", "collection_date"], name="ach_entry_auth_date"
            )
        ]

    def __str__(self) -> str:
        return f"ACH {self.trace_number} {self.amount}"


class ImportRun(models.Model):
    """One imported file and what became of each row (the report)."""

    class Kind(models.TextChoices):
        BOARDING = "boarding", "Loan boarding"
        PAYMENTS = "payments", "Payments"
        ACH_RETURNS = "ach_returns", "ACH returns"

    kind = models.CharField(max_length=15, choices=Kind.choices)
    filename = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["kind", "sha256"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.created_at:%Y-%m-%d %H:%M}"


class ServiceRequest(TimeStampedModel):
    """A borrower's request for help on a loan (hardship, a modification,
    other), worked by servicing staff as a task: open -> in progress ->
    resolved or declined. Due `SLA_DAYS` after the business date it arrived."""

    SLA_DAYS = 5
    MAX_NOTE = 2000  # a resolution or a reason for declining

    class Kind(models.TextChoices):
        HARDSHIP = "hardship", "Hardship help"
        MODIFICATION = "modification", "Loan modification"
        OTHER = "other", "Other question"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        RESOLVED = "resolved", "Resolved"
        DECLINED = "declined", "Declined"

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="service_requests")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="service_requests"
    )
    kind = models.CharField(max_length=15, choices=Kind.choices)
    message = models.TextField()
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_on = models.DateField(help_text="The business date the request arrived.")
    due_by = models.DateField(help_text="Business date + SLA_DAYS.")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["due_by", "id"]
        indexes = [
            models.Index(fields=["status", "due_by"]),
            models.Index(fields=["loan", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request {self.pk} on loan {self.loan_id}"

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.RESOLVED, self.Status.DECLINED)


# ---------------------------------------------------------------------------
# Loan notes (servicing.services.notes): free-text notes staff keep on a loan,
# shown with the boarding underwriting notes on the loan page. Append-only: a
# note is never edited or deleted; a correction is a new note.
# ---------------------------------------------------------------------------


class LoanNote(models.Model):
    """A servicing note on a loan, kept forever (append-only). `author` is
    None when the system (or an API key, named in the audit trail) wrote it."""

    MAX_TEXT = 2000

    id = models.BigAutoField(primary_key=True)
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="notes")
    text = models.CharField(max_length=MAX_TEXT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["loan", "-created_at"], name="loan_note_loan_created")]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="loan_note_not_blank")]
        triggers = [
            pgtrigger.Protect(
                name="loan_note_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"Note {self.pk} on loan {self.loan_id}"
