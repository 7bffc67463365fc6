"""The day's close for a set of loans, set-based: instalments falling due,
ageing, and the daily interest accrual (servicing.eod runs these as end of
day steps, a chunk of loans at a time).

Each function does its chunk with a fixed number of statements whatever
its size, and locks the chunk's loan rows first (in id order), so payments
posted while end of day runs wait for the chunk or the chunk waits for them.
Everything here agrees to the cent with what `sync.sync_loans` (the replay)
would write for the same loans and date; tests hold the two side by side.

Daily accrual (scheduled interest method): on each business date D, a live
loan's current period (the first instalment due after D, from the previous
due date or the disbursement date) has accrued

    target = round(interest_due x (D + 1 - start) / (due_date - start), 2)

(straight-line over the period's actual days, half-up), and the day posts
`target - accrued so far` as a "daily:<D>" entry: accrued interest
receivable against interest income. The day before the due date the target
is the instalment's whole interest. `Loan.accrued_interest` holds what the
current period has accrued; only the current period ever accrues, so that
one figure is the whole accrued-not-due balance. Because the target is
cumulative, a loan that missed days catches up in one posting, and a rerun
of the same date posts nothing.

Falling due: an instalment reaching its due date moves its accrued interest
to interest receivable ("accrual:<n>", as sync posts it) and recognises
whatever the accruals did not (a period's straight-line and the schedule's
interest differ only by rounding, or by a change of schedule). Statuses move
(not due -> due -> past due), and the loan's interest due and days past due
follow. A loan with a credit balance (unapplied funds or an overpayment) and
an instalment falling due is replayed instead: the replay applies the credit
on the due date.
"""

import contextlib
from datetime import date

from django.db import connection

from servicing.models import LoanState
from servicing.services.ledger import post_lines_sql
from servicing.services.sync import lock_rows, sync_loans

ACTIVE = LoanState.ACTIVE.value


@contextlib.contextmanager
def _chunk_plans(cursor):
    """Plans for a chunk's statements: they reach a few thousand loans' rows
    by index, and JIT compilation costs them more than it saves. (The
    statements are written so that the planner reaches other tables through
    their indexes, never by hashing a whole table: a LATERAL ... LIMIT probe
    for "no such entry yet", the id list repeated on each updated table.)
    Set for the block, then restored."""
    settings = ("jit",)
    for name in settings:
        cursor.execute(f"SET LOCAL {name} = off")
    yield
    # (on an error the transaction or savepoint rolls back, and SET LOCAL with it)
    for name in settings:
        cursor.execute(f"RESET {name}")


def _ids(chunk) -> tuple[str, dict]:
    """A WHERE fragment on `l.id` for a chunk: a list of ids or an inclusive
    (first, last) range with open ends as None."""
    if isinstance(chunk, list):
        return "l.id = ANY(%(ids)s)", {"ids": [int(i) for i in chunk]}
    first, last = chunk
    parts, params = ["TRUE"], {}
    if first is not None:
        parts.append("l.id >= %(first)s")
        params["first"] = first
    if last is not None:
        parts.append("l.id <= %(last)s")
        params["last"] = last
    return " AND ".join(parts), params


# --- falling due and ageing ------------------------------------------------------


def loans_to_age(business_date: date) -> list[int]:
    """Active loans whose figures move with the date alone: those owing an
    instalment due by `business_date` (Loan.next_due_date, the oldest
    instalment with anything outstanding, is on or before it): one falls due
    today, or one is past due. (The engine never pays an instalment before
    its due date, so one owing nothing has no interest to move either.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM servicing_loan WHERE state = %(active)s "
            "AND next_due_date <= %(d)s ORDER BY id",
            {"d": business_date, "active": ACTIVE},
        )
        return [row[0] for row in cursor.fetchall()]


def fall_due(chunk, business_date: date) -> dict:
    """Instalments falling due and days past due for the chunk's active loans
    as of `business_date`, and their delinquency row for the day."""
    where, params = _ids(chunk)
    params.update(d=business_date, active=ACTIVE)
    with connection.cursor() as cursor, _chunk_plans(cursor):
        cursor.execute(
            f"""
            SELECT l.id,
                   EXISTS (SELECT 1 FROM servicing_installment i WHERE i.loan_id = l.id
                           AND i.status = 'not_due' AND i.due_date <= %(d)s)
                   AND (l.unapplied_balance > 0 OR l.overpayment_balance > 0
                        OR EXISTS (SELECT 1 FROM servicing_loanevent e
                                   WHERE e.loan_id = l.id AND e.kind = 'fee'))
            FROM servicing_loan l WHERE {where} AND l.state = %(active)s
            ORDER BY l.id FOR UPDATE
            """,  # noqa: S608 - fixed SQL fragments; values are parameters
            params,
        )
        rows = cursor.fetchall()
        ids = [loan_id for loan_id, _ in rows]
        replayed = [loan_id for loan_id, credit in rows if credit]
        if replayed:
            sync_loans(list(lock_rows(replayed).values()), as_of=business_date)
        rest = sorted(set(ids) - set(replayed))
        entries = _fall_due_sql(cursor, rest, business_date) if rest else 0
        delinquent = record_delinquency(cursor, ids, business_date)
    return {
        "loans": len(ids),
        "replayed": len(replayed),
        "entries": entries,
        "delinquent": delinquent,
    }


def _fall_due_sql(cursor, ids: list[int], business_date: date) -> int:
    params = {"ids": ids, "d": business_date}
    # 1. Instalments reaching their due date: the first takes the period's
    # accrued interest to interest receivable, and each recognises the rest
    # of its interest (sync's "accrual:<n>"; none where sync already posted it).
    entries = post_lines_sql(
        cursor,
        """
        SELECT d.loan_id, d.product_id, 'accrual' AS entry_type, d.due_date AS effective_date,
               'accrual:' || d.number AS source, 1 AS seq, '' AS memo,
               v.role, v.component, v.installment_number, v.amount
        FROM (
            SELECT i.loan_id, l.product_id, i.number, i.due_date, i.interest_due,
                   CASE WHEN row_number() OVER (PARTITION BY i.loan_id
                                                ORDER BY i.due_date, i.number) = 1
                        THEN l.accrued_interest ELSE 0 END AS moved
            FROM servicing_installment i JOIN servicing_loan l ON l.id = i.loan_id
            WHERE i.loan_id = ANY(%(ids)s) AND i.status = 'not_due' AND i.due_date <= %(d)s
        ) d
        CROSS JOIN LATERAL (VALUES
            ('interest_receivable', 'interest', d.number, d.interest_due),
            ('accrued_interest', 'interest', d.number, -d.moved),
            ('interest_income', '', NULL::integer, d.moved - d.interest_due)
        ) AS v(role, component, installment_number, amount)
        LEFT JOIN LATERAL (
            SELECT 1 AS found FROM servicing_journalentry e
            WHERE e.loan_id = d.loan_id AND e.source = 'accrual:' || d.number LIMIT 1
        ) posted ON TRUE
        WHERE posted.found IS NULL
        """,
        params,
    )
    # 2. The accrued interest now belongs to a due instalment.
    cursor.execute(
        """
        UPDATE servicing_loan SET accrued_interest = 0
        WHERE id = ANY(%(ids)s) AND accrued_interest <> 0 AND id IN (
            SELECT loan_id FROM servicing_installment
            WHERE loan_id = ANY(%(ids)s) AND status = 'not_due' AND due_date <= %(d)s)
        """,
        params,
    )
    # 3. Statuses as the replay sets them.
    cursor.execute(
        """
        UPDATE servicing_installment SET status = CASE
            WHEN principal_paid + interest_paid + fees_paid + penalties_paid
                 = principal_due + interest_due + fees_due + penalties_due THEN 'paid'
            WHEN principal_paid + interest_paid + fees_paid + penalties_paid > 0
                 THEN 'partially_paid'
            WHEN due_date = %(d)s THEN 'due'
            ELSE 'past_due' END
        WHERE loan_id = ANY(%(ids)s) AND status IN ('not_due', 'due') AND due_date <= %(d)s
        """,
        params,
    )
    # 4. Interest due, and days past due from the oldest periodic payment not
    # paid in full (Regulation X; the replay's periodic_arrears): it stays
    # what it was, or is the first instalment falling due now unpaid. (These
    # loans have no fee: payments deemed applied to principal and interest
    # first are then the payments as booked.)
    cursor.execute(
        """
        UPDATE servicing_loan l
        SET interest_balance = s.interest, arrears_since = s.since,
            days_past_due = COALESCE(%(d)s - s.since, 0),
            delinquent_days = GREATEST(COALESCE(%(d)s - s.since, 0) - p.arrears_grace_days, 0),
            updated_at = now()
        FROM (
            SELECT i.loan_id,
                   COALESCE(SUM(i.interest_due - i.interest_paid)
                            FILTER (WHERE i.due_date <= %(d)s), 0) AS interest,
                   COALESCE(min(x.arrears_since), MIN(i.due_date) FILTER (
                       WHERE i.due_date <= %(d)s AND i.principal_paid + i.interest_paid
                             < i.principal_due + i.interest_due)) AS since
            FROM servicing_installment i JOIN servicing_loan x ON x.id = i.loan_id
            WHERE i.loan_id = ANY(%(ids)s) AND x.id = ANY(%(ids)s) GROUP BY i.loan_id
        ) s, servicing_servicingproduct p
        WHERE l.id = s.loan_id AND l.id = ANY(%(ids)s) AND p.id = l.product_id
          AND (l.interest_balance <> s.interest OR l.arrears_since IS DISTINCT FROM s.since
               OR l.days_past_due <> COALESCE(%(d)s - s.since, 0))
        """,
        params,
    )
    return entries


def record_delinquency(cursor, ids: list[int], business_date: date) -> int:
    """The day's DelinquencyDay rows for those of `ids` past due (and none
    for the others: a rerun after a cure removes the day's row). Returns the
    number of delinquent loans."""
    params = {"ids": ids, "d": business_date}
    cursor.execute(
        """
        DELETE FROM servicing_delinquencyday d USING servicing_loan l
        WHERE d.business_date = %(d)s AND d.loan_id = ANY(%(ids)s)
          AND l.id = d.loan_id AND l.days_past_due = 0
        """,
        params,
    )
    cursor.execute(
        """
        INSERT INTO servicing_delinquencyday
            (loan_id, business_date, days_past_due, delinquent_days, oldest_due_date,
             amount_past_due, principal_balance)
        SELECT l.id, %(d)s, l.days_past_due, l.delinquent_days, %(d)s - l.days_past_due,
               (SELECT COALESCE(SUM(i.principal_due - i.principal_paid
                                    + i.interest_due - i.interest_paid), 0)
                FROM servicing_installment i
                WHERE i.loan_id = l.id AND i.due_date < %(d)s),
               l.principal_balance
        FROM servicing_loan l
        WHERE l.id = ANY(%(ids)s) AND l.days_past_due > 0
        ON CONFLICT (business_date, loan_id) DO UPDATE SET
            days_past_due = EXCLUDED.days_past_due,
            delinquent_days = EXCLUDED.delinquent_days,
            oldest_due_date = EXCLUDED.oldest_due_date,
            amount_past_due = EXCLUDED.amount_past_due,
            principal_balance = EXCLUDED.principal_balance
        """,
        params,
    )
    return cursor.rowcount


# --- late fees -------------------------------------------------------------------


def late_fee_candidates(business_date: date) -> list[int]:
    """Active loans of products that charge late fees with an instalment more
    than the product's grace days late, its principal and interest not paid
    in full, and no late fee yet: a superset of the loans
    fees.assess_late_fees charges (it decides), found in one query from the
    delinquent loans (days past due is as of this close: run after fall_due)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT l.id FROM servicing_loan l
            JOIN servicing_servicingproduct p ON p.id = l.product_id
            JOIN servicing_installment i ON i.loan_id = l.id
            WHERE l.state = %(active)s AND l.days_past_due > p.late_fee_grace_days
              AND p.late_fee_type <> 'none'
              AND %(d)s - i.due_date > p.late_fee_grace_days
              AND i.principal_paid + i.interest_paid < i.principal_due + i.interest_due
              AND NOT EXISTS (
                  SELECT 1 FROM servicing_loanevent e
                  WHERE e.loan_id = l.id AND e.kind = 'fee' AND e.details->>'fee_kind' = 'late'
                    AND e.details->>'installment_number' = i.number::text)
            ORDER BY l.id
            """,
            {"d": business_date, "active": ACTIVE},
        )
        return [row[0] for row in cursor.fetchall()]


# --- daily accrual ---------------------------------------------------------------


def accrue_daily(chunk, business_date: date) -> dict:
    """Post the day's interest accrual for the chunk's active loans and mark
    them closed through `business_date` (see the module docstring)."""
    where, params = _ids(chunk)
    params.update(d=business_date, day=business_date.isoformat(), active=ACTIVE)
    with connection.cursor() as cursor, _chunk_plans(cursor):
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS eod_accrual (loan_id bigint PRIMARY KEY, "
            "product_id bigint, number integer, accrued numeric, target numeric, seq integer) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute("DELETE FROM eod_accrual")
        cursor.execute(
            f"""
            SELECT l.id FROM servicing_loan l WHERE {where} AND l.state = %(active)s
            ORDER BY l.id FOR UPDATE
            """,  # noqa: S608 - fixed SQL fragments; values are parameters
            params,
        )
        loans = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO eod_accrual (loan_id, product_id, number, accrued, target, seq)
            SELECT l.id, l.product_id, i.number, l.accrued_interest,
                   CASE WHEN s.start > %(d)s THEN l.accrued_interest
                        ELSE round(i.interest_due * (LEAST(%(d)s + 1, i.due_date) - s.start)
                                   / (i.due_date - s.start), 2) END,
                   CASE WHEN l.closed_through >= %(d)s
                        THEN (SELECT count(*) + 1 FROM servicing_journalentry e
                              WHERE e.loan_id = l.id AND e.source = 'daily:' || %(day)s)
                        ELSE 1 END
            FROM servicing_loan l
            CROSS JOIN LATERAL (
                SELECT c.number, c.interest_due, c.due_date,
                       COALESCE((SELECT q.due_date FROM servicing_installment q
                                 WHERE q.loan_id = l.id AND q.number = c.number - 1),
                                l.disbursement_date) AS start
                FROM servicing_installment c
                WHERE c.loan_id = l.id AND c.due_date > %(d)s
                ORDER BY c.due_date, c.number LIMIT 1
            ) i
            CROSS JOIN LATERAL (SELECT i.start) s
            WHERE {where} AND l.state = %(active)s
            """,  # noqa: S608 - fixed SQL fragments; values are parameters
            params,
        )
        cursor.execute("ANALYZE eod_accrual")
        entries = post_lines_sql(
            cursor,
            """
            SELECT a.loan_id, a.product_id, 'accrual' AS entry_type, %(d)s::date AS effective_date,
                   'daily:' || %(day)s AS source, a.seq, 'Daily interest accrual' AS memo,
                   v.role, v.component, v.installment_number, v.amount
            FROM eod_accrual a
            CROSS JOIN LATERAL (VALUES
                ('accrued_interest', 'interest', a.number, a.target - a.accrued),
                ('interest_income', '', NULL::integer, a.accrued - a.target)
            ) AS v(role, component, installment_number, amount)
            WHERE a.target <> a.accrued
            """,
            params,
        )
        cursor.execute(
            f"""
            UPDATE servicing_loan l SET accrued_interest = a.target, closed_through = %(d)s
            FROM eod_accrual a
            WHERE {where} AND l.id = a.loan_id
              AND (a.target <> l.accrued_interest OR l.closed_through IS DISTINCT FROM %(d)s)
            """,  # noqa: S608 - fixed SQL fragments; values are parameters
            params,
        )
        cursor.execute(
            f"""
            UPDATE servicing_loan l SET closed_through = %(d)s
            WHERE {where} AND l.state = %(active)s AND l.closed_through IS DISTINCT FROM %(d)s
            """,  # noqa: S608 - fixed SQL fragments; values are parameters
            params,
        )
        cursor.execute("DELETE FROM eod_accrual")
    return {"loans": loans, "entries": entries}
