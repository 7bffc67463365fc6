"""Load the demo portfolio: one staff user per role, a demo borrower, a
few dozen realistic customers, a seasoned portfolio of loans with their
payment history and the statements it implies, and applications in every
state. Safe to run again: nothing is duplicated.

Each stage prints a line as it starts and its counts and elapsed time as it
ends (a first load takes tens of seconds; `make run` shows it as it goes)."""

import os
import time
from contextlib import contextmanager

from django.core.management.base import BaseCommand
from django.db import transaction

from customers.demo import create_demo_borrower, load_demo_customers
from origination.demo import load_demo_applications
from servicing.demo import demo_product, load_demo_statements, season_demo_loans
from users.demo import DEMO_PASSWORD, demo_totp_secret, load_demo_staff


class Command(BaseCommand):
    help = "Load demo users, customers, loans with their history and statements, and applications."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=40, help="How many demo customers.")
        parser.add_argument(
            "--loans", type=int, default=200, help="How many demo loans (0 for none)."
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print nothing (no progress, no credentials)."
        )

    def handle(self, *args, **options):
        self.quiet = options["quiet"]
        started = time.monotonic()
        self._say("Loading the demo data")
        with self._stage("staff, demo borrower and customers") as done:
            with transaction.atomic():
                staff = load_demo_staff()
                borrower = create_demo_borrower()
                customers = load_demo_customers(count=options["customers"])
            done(f"{len(staff)} staff users, {len(customers)} customers")
        with self._stage("loans and their payment history") as done:
            result = season_demo_loans(count=options["loans"])
            loans = result.loans
            done(
                f"{len(loans)} loans ({result.boarded} boarded now, "
                f"{result.payments} payments posted)"
            )
        with self._stage("statements") as done:
            statements = load_demo_statements(loans)
            done(f"{statements} made")
        with self._stage("applications") as done:
            # the loan product boards onto the demo servicing product
            demo_product()
            applications = load_demo_applications()
            done(f"{len(applications)} applications")
        if self.quiet:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {time.monotonic() - started:.0f} s: {len(customers)} "
                f"customers, {len(loans)} loans, {len(applications)} applications."
            )
        )
        self.stdout.write("")
        base = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
        self.stdout.write(f"Staff back office: {base}/staff/login/")
        self.stdout.write(f"  {'username':<14} {'role':<18} password")
        for account in staff:
            line = f"  {account.username:<14} {account.role_label:<18} {DEMO_PASSWORD}"
            if account.backup_codes:
                line += f"   2FA backup codes: {' '.join(account.backup_codes)}"
            self.stdout.write(line)
        self.stdout.write(
            "  Managers and administrators need a second factor: type one of their backup codes "
            "(each works once; every load_demo issues fresh ones), or add the demo TOTP secret "
            f"{demo_totp_secret()} to an authenticator app."
        )
        self.stdout.write("")
        self.stdout.write(f"Borrower portal: {base}/portal/login/")
        self.stdout.write(f"  {borrower.email:<30} password {DEMO_PASSWORD}")

    def _say(self, text: str, ending: str = "\n") -> None:
        if not self.quiet:
            self.stdout.write(text, ending=ending)
            self.stdout.flush()

    @contextmanager
    def _stage(self, name: str):
        """Print `name` now and, when the block calls done(summary), the
        summary and the stage's elapsed time on the same line."""
        started = time.monotonic()
        self._say(f"  {name} ...", ending="")

        def done(summary: str) -> None:
            self._say(f" {summary} ({time.monotonic() - started:.1f} s)")

        yield done
