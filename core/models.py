"""Shared kernel models: the append-only audit event, the business date,
and abstract bases the apps build on."""

import pgtrigger
from django.conf import settings
from django.db import models

from core.finance import InstallmentMethod, PrincipalRounding
from core.money import ZERO

# A money column's default. Kept the str "0.00" the migrations record (a Decimal
# default would make Django see every money column as altered).
ZERO_DEFAULT = str(ZERO)

# The engine's named schedule conventions as model choices (loan products of
# origination and servicing carry them; core.finance.terms documents them).
INSTALLMENT_METHODS = [
    (InstallmentMethod.NOMINAL_RATE.value, "Nominal periodic rate"),
    (InstallmentMethod.PERIOD_RATES.value, "Each period's own rate (its days)"),
    (
        InstallmentMethod.PERIOD_RATES_ADJUSTED.value,
        "Each period's own rate, with Fineract's EMI adjustment",
    ),
]
PRINCIPAL_ROUNDINGS = [
    (PrincipalRounding.CENTS.value, "Principal part to the cent"),
    (PrincipalRounding.INSTALLMENT_MULTIPLE.value, "Principal part to the instalment multiple"),
]


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True, editable=False)

    class Meta:
        abstract = True


class AuditCategory(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    STATE_CHANGE = "state_change", "State change"
    MONEY = "money", "Money movement"
    CONFIG = "config", "Configuration change"
    SENSITIVE_READ = "sensitive_read", "Sensitive read"
    SECURITY = "security", "Security"


class AuditEvent(models.Model):
    """One thing that happened, kept forever.

    On PostgreSQL, triggers refuse any UPDATE or DELETE of a row (so even a
    superuser's raw SQL cannot rewrite history short of dropping the trigger,
    which is itself a migration in the repository). `object_type` and
    `object_id` are plain strings rather than a generic foreign key so that
    events outlive the objects they describe.
    """

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=100)
    category = models.CharField(max_length=20, choices=AuditCategory.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-occurred_at"]),
            models.Index(fields=["actor", "-occurred_at"]),
            models.Index(fields=["action", "-occurred_at"]),
        ]
        triggers = [
            pgtrigger.Protect(
                name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        when = f"{self.occurred_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class BusinessDate(models.Model):
    """The platform's business date: a single row, distinct from the wall
    clock. Read it with core.businessdate.get_business_date(); move it only
    with core.businessdate.advance_business_date()."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    date = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="business_date_singleton")
        ]

    def __str__(self) -> str:
        return self.date.isoformat()


class EodRun(models.Model):
    """One end-of-day run of a business date (core.eod). A date has one run;
    running it again resumes the same row, so a completed day is a no-op.

    Started from the staff page it is created `queued` (queued_at, who,
    from where) in the request and picked up by a worker, which sets
    `started_at` and `running`; with `fan_out`, its chunks are shared by
    every worker (core.eod). It ends `completed`, `completed_with_failures`
    (the day closed, some items skipped: its EodFailure rows) or `failed`
    (a chunk failed as a whole; starting it again resumes). Its progress is
    its EodStep and EodChunk rows (core.selectors.eod_run_progress)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        # Every step done, but some items (loans) failed and were skipped:
        # the day is closed, their EodFailure rows are the list to look at,
        # and running the date again retries them.
        COMPLETED_WITH_FAILURES = "completed_with_failures", "Completed with failures"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        STAFF = "staff", "Staff page"
        BEAT = "beat", "Schedule (beat)"
        COMMAND = "command", "manage.py run_eod"
        TASK = "task", "Task"

    business_date = models.DateField(unique=True)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.RUNNING)
    fan_out = models.BooleanField(
        default=False,
        help_text="Its chunks are shared out as Celery tasks (else one process runs them).",
    )
    advances = models.BooleanField(
        default=True,
        help_text="Completing it moves the business date on, if the run's date is today's.",
    )
    source = models.CharField(
        max_length=10, choices=Source.choices, blank=True, help_text="Who last started it."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff user who last started it (none for beat and the command).",
    )
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-business_date"]

    def __str__(self) -> str:
        return f"EOD {self.business_date:%Y-%m-%d} ({self.status})"

    CLOSED = (Status.COMPLETED, Status.COMPLETED_WITH_FAILURES)

    @property
    def finished(self) -> bool:
        return self.status in (*self.CLOSED, self.Status.FAILED)

    @property
    def closed(self) -> bool:
        """The day is closed: every step done (some items may have failed)."""
        return self.status in self.CLOSED


class EodStep(models.Model):
    """One step of an end-of-day run, created for every registered step when
    the run starts, so progress lists the steps still to come. `chunks_total`
    and `items_total` are set when the step is reached and its chunks are
    planned (items: what the step counts, e.g. loans; null when its chunks
    have no known size). Done counts are not kept here but summed from the
    step's EodChunk rows, so chunks may finish in parallel without all
    updating one row."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(EodRun, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=50)
    position = models.PositiveIntegerField(help_text="Order of the step in the run.")
    unit = models.CharField(max_length=30, blank=True, help_text='What items are, e.g. "loans".')
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    chunks_total = models.PositiveIntegerField(null=True, blank=True)
    items_total = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="eod_step_unique")]

    def __str__(self) -> str:
        return f"{self.run} {self.name} ({self.status})"


class EodChunk(models.Model):
    """One chunk of one step of an end-of-day run: an id range
    (first_id..last_id, either end open when null) or an explicit id list,
    with `size` items (null when unknown, e.g. an open range). A done chunk
    is never run again for the same run.

    Workers claim a pending chunk by locking its row (SELECT ... FOR UPDATE
    SKIP LOCKED) and hold that lock while they do it, in the transaction
    that also marks it done: a worker that dies releases the lock with its
    connection and the chunk, still pending, goes to the next claimer.
    `retry` chunks are added when a date that completed with failures runs
    again: they hold the failed items only."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(EodRun, on_delete=models.CASCADE, related_name="chunks")
    step = models.CharField(max_length=50)
    index = models.PositiveIntegerField()
    first_id = models.BigIntegerField(null=True, blank=True)
    last_id = models.BigIntegerField(null=True, blank=True)
    ids = models.JSONField(null=True, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    retry = models.BooleanField(default=False)
    worker = models.CharField(
        max_length=100, blank=True, help_text="host:pid of the process that did it."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step", "index"], name="eod_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"{self.run} {self.step}#{self.index} ({self.status})"


class EodFailure(models.Model):
    """One item (a loan) that a step could not process on a run's date: its
    chunk was retried on halves of its items until this one was alone and
    still raised, so the others committed and this one was skipped. It is on
    the run's list of items to look at until a later run of the same date
    processes it (`resolved_at`). `attempts` counts the runs that failed it."""

    run = models.ForeignKey(EodRun, on_delete=models.CASCADE, related_name="failures")
    step = models.CharField(max_length=50)
    chunk = models.ForeignKey(
        EodChunk, null=True, blank=True, on_delete=models.SET_NULL, related_name="failures"
    )
    object_id = models.BigIntegerField(help_text="The item's id (a loan's, for loan steps).")
    error = models.TextField(help_text="Exception type and message.")
    traceback = models.TextField(blank=True, help_text="The end of the traceback.")
    attempts = models.PositiveIntegerField(default=1)
    failed_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "step", "object_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step", "object_id"], name="eod_failure_unique")
        ]

    def __str__(self) -> str:
        return f"{self.run} {self.step} #{self.object_id}: {self.error[:60]}"


class IdempotencyRecord(models.Model):
    """The first answer to an API POST sent with an `Idempotency-Key`
    (core.idempotency), so a retry returns it instead of acting twice.

    Keys are per caller: unique on (principal, key), where the principal is
    the API key or the staff user. The record is inserted in the same
    transaction as the work it guards, so a concurrent repeat waits on the
    unique index and then reads the stored answer; a failed request leaves
    no record. `purge_idempotency_records()` deletes old ones.
    """

    principal = models.CharField(max_length=64, help_text='"users.apikey:7" or "user:12".')
    key = models.CharField(max_length=100)
    scope = models.CharField(max_length=150, help_text="The view that answered.")
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the method, path and parsed body."
    )
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_record_unique")
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key} -> {self.scope}"
