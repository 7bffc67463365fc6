"""manage.py run_eod [--date YYYY-MM-DD] [--no-advance]: run or resume end of day."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core.eod import run_end_of_day, totals
from core.exceptions import DomainError
from core.models import EodRun


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
        try:
            run = run_end_of_day(options["date"], advance=not options["no_advance"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for step, counts in totals(run).items():
            shown = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing"
            self.stdout.write(f"  {step}: {shown}")
        if run.status != EodRun.Status.COMPLETED:
            raise CommandError(f"End of day {run.business_date} failed: {run.error}")
        self.stdout.write(self.style.SUCCESS(f"End of day {run.business_date:%Y-%m-%d} completed."))
