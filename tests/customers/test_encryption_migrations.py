"""The issue 11 data migrations on real rows: migrating back restores the
plain columns, migrating forward encrypts them again and leaves no plain
date of birth or raw report in the database (checked with raw SQL), and
past audit diffs are masked."""

import json
from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core import crypto
from customers import services
from customers.models import date_of_birth_of
from origination.models import BureauPull, bureau_report_of
from origination.services import kyc
from tests.customers.conftest import person_data
from tests.origination.closing_setup import _closing_env, servicing_product  # noqa: F401

CUSTOMERS_BEFORE = [("customers", "0001_initial")]
CUSTOMERS_AFTER = [("customers", "0002_encrypt_date_of_birth")]
ORIGINATION_BEFORE = [("origination", "0003_disbursement_rail")]
ORIGINATION_AFTER = [("origination", "0004_encrypt_bureau_reports_and_screened_dob")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def sql(query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


@pytest.mark.django_db(transaction=True)
def test_customer_dates_of_birth_migrate_both_ways_and_audit_rows_are_masked():
    customer = services.create_customer(data=person_data())
    try:
        migrate(CUSTOMERS_BEFORE)
        assert sql("SELECT date_of_birth FROM customers_customer WHERE id = %s", [customer.pk]) == [
            (date(1985, 12, 10),)
        ]
        # a customer and an audit diff written before encryption existed
        sql(
            "INSERT INTO customers_customer (created_at, updated_at, kind, first_name,"
            " middle_name, last_name, date_of_birth, business_name, dba_name, entity_type,"
            " legal_name, tax_id_type, tax_id_encrypted, tax_id_last4, tax_id_hash, email,"
            " preferred_channel, preferred_language, customer_number)"
            " VALUES (now(), now(), 'person', 'Old', '', 'Row', '1972-07-04', '', '', '',"
            " 'Old Row', '', '', '', '', '', 'email', 'en', 'C-OLD')"
        )
        sql(
            "INSERT INTO core_auditevent (occurred_at, actor_label, action, category,"
            " object_type, object_id, object_repr, changes, metadata, request_id)"
            " VALUES (now(), 'system:test', 'customer.updated', 'update', 'customers.customer',"
            " %s, '', %s, '{}', '')",
            [str(customer.pk), json.dumps({"date_of_birth": ["1985-12-10", "1972-07-04"]})],
        )
        migrate(CUSTOMERS_AFTER)
        columns = [
            c
            for (c,) in sql(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'customers_customer'"
            )
        ]
        assert "date_of_birth" not in columns
        rows = sql(
            "SELECT customer_number, date_of_birth_encrypted, birth_year FROM customers_customer"
            " ORDER BY id"
        )
        assert [(number, year) for number, _, year in rows] == [
            (customer.customer_number, 1985),
            ("C-OLD", 1972),
        ]
        assert [crypto.decrypt(token) for _, token, _ in rows] == ["1985-12-10", "1972-07-04"]
        dump = " ".join(str(r) for r in sql("SELECT * FROM customers_customer"))
        audit = " ".join(c for (c,) in sql("SELECT changes::text FROM core_auditevent"))
        for plain in ("1985-12-10", "1972-07-04"):
            assert plain not in dump and plain not in audit
        assert '["••/••/1985", "••/••/1972"]' in audit
    finally:
        migrate_to_latest()
    customer.refresh_from_db()
    assert date_of_birth_of(customer) == date(1985, 12, 10)


@pytest.mark.django_db(transaction=True)
def test_bureau_reports_migrate_both_ways(servicing_product):  # noqa: F811 (fixture)
    from tests.origination.closing_setup import make_loan_product
    from tests.origination.test_staff_pages import referred

    app = referred(make_loan_product(servicing_product.pk))
    pull = BureauPull.objects.get(application=app)
    report = bureau_report_of(pull)
    smith = services.create_customer(
        data=person_data(
            first_name="John",
            last_name="Smith",
            tax_id="401-23-4567",
            date_of_birth=date(1965, 3, 12),
            email="",
        )
    )
    hit = kyc.screen_customer(customer=smith)
    try:
        migrate(ORIGINATION_BEFORE)
        [(raw,)] = sql("SELECT raw::text FROM origination_bureaupull WHERE id = %s", [pull.pk])
        assert json.loads(raw) == report
        assert sql("SELECT screened_dob FROM origination_sanctionshit WHERE id = %s", [hit.pk]) == [
            (date(1965, 3, 12),)
        ]
        migrate(ORIGINATION_AFTER)
        [(dob_token, year)] = sql(
            "SELECT screened_dob_encrypted, screened_birth_year FROM origination_sanctionshit"
            " WHERE id = %s",
            [hit.pk],
        )
        assert (crypto.decrypt(dob_token), year) == ("1965-03-12", 1965)
        [(token, summary)] = sql(
            "SELECT raw_encrypted, summary::text FROM origination_bureaupull WHERE id = %s",
            [pull.pk],
        )
        assert json.loads(crypto.decrypt(token)) == report
        assert json.loads(summary)["score"] == pull.score == 612
        dump = " ".join(str(r) for r in sql("SELECT * FROM origination_bureaupull"))
        dump += " ".join(str(r) for r in sql("SELECT * FROM origination_sanctionshit"))
        for secret in ("1985-12-10", "1965-03-12", *(t["creditor"] for t in report["tradelines"])):
            assert secret not in dump, secret
    finally:
        migrate_to_latest()
