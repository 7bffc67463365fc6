"""Load the demo portfolio: one staff user per role, a demo borrower, a
few dozen realistic customers and a seasoned portfolio of loans with their
payment history. Safe to run again: nothing is duplicated."""

import os

from django.core.management.base import BaseCommand
from django.db import transaction

from customers.demo import create_demo_borrower, load_demo_customers
from origination.demo import load_demo_applications
from servicing.demo import demo_product, load_demo_loans
from users.demo import DEMO_PASSWORD, demo_totp_secret, load_demo_staff


class Command(BaseCommand):
    help = "Load demo users, customers (and, as later issues land, applications and loans)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=40, help="How many demo customers.")
        parser.add_argument(
            "--loans", type=int, default=200, help="How many demo loans (0 for none)."
        )
        parser.add_argument("--quiet", action="store_true", help="Do not print the credentials.")

    def handle(self, *args, **options):
        with transaction.atomic():
            staff = load_demo_staff()
            borrower = create_demo_borrower()
            customers = load_demo_customers(count=options["customers"])
        # one transaction per loan inside: a long first load commits as it goes
        loans = load_demo_loans(count=options["loans"])
        # one transaction per application story inside, after the servicing demo;
        # the loan product boards onto the demo servicing product
        demo_product()
        applications = load_demo_applications()
        if options["quiet"]:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(customers)} customers, {len(loans)} loans, "
                f"{len(applications)} applications."
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
