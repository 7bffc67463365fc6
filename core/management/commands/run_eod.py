"""manage.py run_eod [--date YYYY-MM-DD] [--no-advance]: run or resume end of
day in this process, printing each step's progress as it goes; missed days
before the date are closed first, one run each (core.eod.dates_to_close).
The runs are recorded like ones started from the staff page, which shows
them too. Celery workers running at the same time do not take part (the
command queues no task); run it where no worker is needed."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core.eod import check_business_date, dates_to_close, run_end_of_day
from core.exceptions import DomainError
from core.models import EodRun
from core.selectors.eod import StepProgress, eod_run_progress


def progress_line(step: StepProgress) -> str:
    """ "  accrue: done, 183 of 183 loans, 1 of 1 chunks (entries 12, loans 183)" """
    counts = ", ".join(f"{k} {v:,}" for k, v in step.count_pairs)
    return f"  {step.name}: {step.status}, {step.summary}" + (f" ({counts})" if counts else "")


class Command(BaseCommand):
    help = "Run (or resume) end of day for a business date, then advance the business date."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=date.fromisoformat, help="Business date (default: today's)."
        )
        parser.add_argument(
            "--no-advance",
            action="store_true",
            help="Do not move the business date on after a completed run.",
        )

    def handle(self, *args, **options):
        printed: dict[tuple[int, str], str] = {}
        try:
            days = dates_to_close(check_business_date(options["date"]))
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        headed: set[int] = set()

        def show(run: EodRun) -> None:
            if len(days) > 1 and run.pk not in headed:
                headed.add(run.pk)
                self.stdout.write(f"End of day {run.business_date:%Y-%m-%d}:")
            # one line per step each time it changes (started, chunk done, ended)
            for step in eod_run_progress(run.pk).steps:
                line = progress_line(step)
                if step.status != "pending" and printed.get((run.pk, step.name)) != line:
                    printed[(run.pk, step.name)] = line
                    self.stdout.write(line)

        try:
            run = run_end_of_day(
                options["date"],
                advance=not options["no_advance"],
                source=EodRun.Source.COMMAND,
                on_progress=show,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if not printed:
            self.stdout.write(f"End of day {run.business_date:%Y-%m-%d} had already completed.")
        if run.status == EodRun.Status.COMPLETED_WITH_FAILURES:
            failures = run.failures.filter(resolved_at__isnull=True).count()
            self.stdout.write(
                self.style.WARNING(
                    f"End of day {run.business_date:%Y-%m-%d} completed with {failures} failed"
                    " item(s), skipped: see its page; run the date again to retry them."
                )
            )
            return
        if run.status != EodRun.Status.COMPLETED:
            raise CommandError(f"End of day {run.business_date} failed: {run.error}")
        self.stdout.write(self.style.SUCCESS(f"End of day {run.business_date:%Y-%m-%d} completed."))
