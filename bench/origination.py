"""Applications decided per second through the REST API, and the time from
submit to decision.

`python -m bench origination [--n 1000] [--clients 2] [--in-process]` (run by
`make bench` with N=1,000) creates a throwaway database "bench_origination"
on the DATABASE_URL server, migrates it, seeds the default products and the
bundled sample SDN list, N customers whose simulated-bureau identities are
decided automatically (three in four the clean file, approved; one in four
the bankruptcy file, declined; no identity that refers), and an integration
API key with the applications scopes. It then starts gunicorn (2 workers)
on the database and, from `--clients` threads, creates and submits each
application over HTTP (POST /api/v1/applications/, then .../submit/, which
runs the whole automatic decision: bureau pull, scorecard, rules, KYC,
sanctions screening, offers or the adverse action notice's content).
Printed: applications per second (create + submit), the median and 95th
percentile of submit -> decision (the submit request's round trip, whose
response carries the decision) and the outcome counts against the intended
mix. Target: p95 under one second.

A decline's notice PDF and e-mail are a Celery task queued after commit:
with REDIS_URL set, a worker (`celery worker`, one process, at nice 10) runs
beside gunicorn and the time until every notice is rendered and e-mailed is
printed; without it tasks run eagerly, inside the submit request.

With `--in-process` (or when gunicorn cannot start) the same requests go
through django.test.Client in this process, one at a time.

The database and the uploaded/generated files are removed at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from decimal import Decimal

from bench.servicing import _admin, _server_url

BENCH_DB = "bench_origination"
APPROVE, DECLINE = "9999", "0003"  # the simulated bureau's clean and bankruptcy files
BODY = {
    "product": "personal-loan",
    "requested_amount": "10000.00",
    "requested_term": 36,
    "purpose": "debt_consolidation",
    "employment_status": "employed",
    "employer": "Acme Corp",
    "employment_months": 60,
    # high enough that no clean file refers on debt-to-income (the largest
    # simulated obligations among the approve identities are about $11,000)
    "gross_monthly_income": "40000.00",
    "housing_status": "rent",
    "housing_cost": "1500.00",
    "other_obligations": "0.00",
    "consents": [
        {"kind": "credit_pull", "wording_version": "2026-01", "text": "I authorize a pull."},
        {"kind": "e_records", "wording_version": "2026-01", "text": "I agree to e-records."},
    ],
}


def _db_url(url: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{BENCH_DB}"


def _setup(url: str, media: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lending.settings")
    _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    _admin(url, f'CREATE DATABASE "{BENCH_DB}"')
    import django
    from django.conf import settings
    from django.db import connections

    connections.close_all()  # another benchmark may have run in this process
    settings.DATABASES["default"]["NAME"] = BENCH_DB
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    settings.MEDIA_ROOT = media
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _seed(n: int) -> str:
    """Products, the sample SDN list, N customers and the API key; returns
    the key (as sent in the Authorization header)."""
    from django.core.management import call_command

    from customers import services as customer_services
    from origination.services.products import seed_default_products
    from servicing.services.products import create_product
    from users.models import User
    from users.services.api_keys import create_api_key

    create_product(
        code="personal",
        name="Personal installment loan",
        late_fee_type="flat",
        late_fee_amount=Decimal("25.00"),
    )
    seed_default_products()
    call_command("import_sdn", "--sample", verbosity=0)
    admin = User.objects.create(username="bench-admin", kind=User.Kind.STAFF)
    _key, full_key = create_api_key(
        name="bench", scopes=["applications:read", "applications:write"], created_by=admin
    )
    start = time.perf_counter()
    for i in range(n):
        magic = DECLINE if i % 4 == 3 else APPROVE
        customer_services.create_customer(
            data={
                "kind": "person",
                "first_name": "Dana",
                "last_name": "Rivera",
                "date_of_birth": date(1985, 6, 15),
                "tax_id": f"{100 + i // 90:03d}-{10 + i % 90:02d}-{magic}",
                "email": f"bench.{i}@example.com",
            },
            addresses=[
                {
                    "kind": "residential",
                    "line1": f"{i + 1} St Marks Pl",
                    "city": "New York",
                    "state": "NY",
                    "postal_code": "10003",
                }
            ],
        )
    sys.stdout.write(f"  seeded {n:,} customers in {time.perf_counter() - start:.1f} s\n")
    return full_key


def _customer_ids() -> list[int]:
    from customers.models import Customer

    return list(Customer.objects.order_by("pk").values_list("pk", flat=True))


# --- transports ---------------------------------------------------------------------------------


class HttpTransport:
    """One keep-alive connection per thread to the live server."""

    def __init__(self, port: int, key: str):
        self.port, self.key = port, key
        self.local = threading.local()

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Authorization": f"Api-Key {self.key}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())


class InProcessTransport:
    def __init__(self, key: str):
        from django.test import Client

        self.client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        response = self.client.post(path, body, content_type="application/json")
        return response.status_code, response.json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(url: str, media: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": _db_url(url),
        "MEDIA_ROOT": media,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "lending.settings",
    }


def _start_worker(url: str, media: str) -> subprocess.Popen | None:
    """A Celery worker for the notices (one process, at nice 10 so the
    requests come first), or None without REDIS_URL (tasks run eagerly)."""
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    if not os.environ.get("REDIS_URL") or not os.path.exists(celery):
        return None
    nice = shutil.which("nice")
    command = [celery, "--quiet", "-A", "lending", "worker", "--concurrency", "1"]
    command += ["--loglevel", "warning"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(  # noqa: S603 (our own venv's celery)
        [nice, "-n", "10", *command] if nice else command, env=_env(url, media), cwd=ROOT
    )


def _await_notices(worker: subprocess.Popen, declined: int, timeout: float = 300) -> None:
    """Wait for the worker to render and e-mail every decline's notice."""
    from core.models import AuditEvent
    from origination.models import GeneratedDocument
    from origination.services.adverse_action import EMAILED_ACTION

    start = time.perf_counter()
    while True:
        rendered = (
            GeneratedDocument.objects.filter(kind=GeneratedDocument.Kind.ADVERSE_ACTION)
            .exclude(sha256="")
            .count()
        )
        emailed = AuditEvent.objects.filter(action=EMAILED_ACTION).count()
        waited = time.perf_counter() - start
        if min(rendered, emailed) >= declined or waited > timeout or worker.poll() is not None:
            break
        time.sleep(0.5)
    sys.stdout.write(
        f"  adverse action notices (worker): {rendered:,} rendered, {emailed:,} e-mailed "
        f"of {declined:,}, all done {waited:.1f} s after the last decision\n"
    )


def _start_server(url: str, media: str) -> tuple[subprocess.Popen, int] | None:
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    if not os.path.exists(gunicorn):
        return None
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 (our own venv's gunicorn)
        [gunicorn, "lending.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=_env(url, media),
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return None
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    return None


# --- the run ------------------------------------------------------------------------------


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # nearest rank
    return ordered[int(rank) - 1]


def run(transport, customer_ids: list[int], clients: int) -> Counter:
    latencies: list[float] = []
    outcomes: Counter = Counter()
    referrals: Counter = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def work(ids: list[int]) -> None:
        for customer_id in ids:
            status, body = transport.post(
                "/api/v1/applications/", {**BODY, "applicant": customer_id}
            )
            if status != 201:
                with lock:
                    errors.append(f"create {status}: {body}")
                continue
            start = time.perf_counter()
            status, body = transport.post(f"/api/v1/applications/{body['id']}/submit/", {})
            elapsed = time.perf_counter() - start
            with lock:
                if status != 200:
                    errors.append(f"submit {status}: {body}")
                    continue
                latencies.append(elapsed)
                outcomes[body["state"]] += 1
                if body["state"] not in ("approved", "declined"):
                    referrals.update(r["code"] for r in body["reasons"])

    chunks = [customer_ids[i::clients] for i in range(clients)]
    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start

    done = len(latencies)
    sys.stdout.write(
        f"  applications created + submitted + decided: {done:,} in {wall:.2f} s "
        f"= {done / wall:,.1f}/s\n"
    )
    if latencies:
        median = statistics.median(latencies) * 1000
        p95 = _percentile(latencies, 0.95) * 1000
        sys.stdout.write(
            f"  submit -> decision: median {median:,.0f} ms, p95 {p95:,.0f} ms, "
            f"max {max(latencies) * 1000:,.0f} ms\n"
        )
        target = "met" if p95 < 1000 else "NOT met"
        sys.stdout.write(f"  target p95 < 1,000 ms: {target}\n")
    intended = Counter("declined" if i % 4 == 3 else "approved" for i in range(len(customer_ids)))
    sys.stdout.write(
        "  outcomes: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items()))
        + " (intended: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(intended.items()))
        + ")\n"
    )
    if referrals:
        sys.stdout.write(f"  referral reasons: {dict(referrals)}\n")
    if errors:
        sys.stdout.write(f"  {len(errors)} errors, first: {errors[0][:300]}\n")
    return outcomes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench origination")
    parser.add_argument("--n", type=int, default=1000, help="applications (default 1,000)")
    parser.add_argument("--clients", type=int, default=2, help="client threads (default 2)")
    parser.add_argument("--in-process", action="store_true", help="django.test.Client, no server")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    url = _server_url()
    media = tempfile.mkdtemp(prefix="bench-origination-")
    sys.stdout.write(f"N = {args.n:,} on a throwaway database {BENCH_DB!r}\n")
    server = worker = None
    try:
        _setup(url, media)
        key = _seed(args.n)
        ids = _customer_ids()
        worker = _start_worker(url, media)
        sys.stdout.write(
            "  adverse action notices: "
            + ("a Celery worker after commit\n" if worker else "eager, inside the request\n")
        )
        started = None if args.in_process else _start_server(url, media)
        if started is not None:
            server, port = started
            sys.stdout.write(
                f"  live server: gunicorn, 2 workers; {args.clients} client thread(s) over HTTP\n"
            )
            outcomes = run(HttpTransport(port, key), ids, args.clients)
        else:
            sys.stdout.write("  in-process: django.test.Client, one request at a time\n")
            outcomes = run(InProcessTransport(key), ids, 1)
        if worker is not None:
            _await_notices(worker, outcomes["declined"])
    finally:
        for process in (server, worker):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
