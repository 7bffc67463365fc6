"""Project-level checks: production settings, the embedded-PostgreSQL path
of `make run`, and the shape of the production-like compose stack."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _clean_env(**overrides: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "DEBUG", "TESTING", "DJANGO_ALLOW_ASYNC"))
    }
    env.update(overrides)
    return env


def test_production_mode_passes_check_deploy():
    env = _clean_env(
        DEBUG="0",
        SECRET_KEY="k" * 20 + "-production-secret-with-enough-entropy-0123456789-abcdefgh",
        FIELD_ENCRYPTION_KEY="hGYy1-0mH0oJ2Nq9qQ2bKpQG3YDX4SWqvqKhq6d9Lhg=",
        FIELD_HASH_KEY="blind-index-key-for-check",
        ALLOWED_HOSTS="lending.example.com",
        # checked, never connected to
        DATABASE_URL="postgres://lending@db.example.com:5432/lending",
    )
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_mode_refuses_to_start_without_secrets():
    env = _clean_env(DEBUG="0", ALLOWED_HOSTS="lending.example.com")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_without_database_url_development_needs_the_embedded_server():
    """No DATABASE_URL in development: the embedded server of `make run` if
    it is running, else a message saying what to do (never another engine)."""
    env = _clean_env(DEBUG="1")
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['HOST'])",
        env=env,
    )
    running = _embedded("url", ROOT / "var" / "pgdata", _clean_env())
    if running.returncode == 0:  # a `make run` of this checkout is up: it is used
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith("var/pgdata")
    else:
        assert result.returncode != 0
        assert (
            "DATABASE_URL is not set and the embedded PostgreSQL of `make run` is not running"
            in result.stderr
        )
        assert "Run `make run`" in result.stderr


def test_database_url_must_name_postgresql():
    for env in (
        _clean_env(DATABASE_URL="sqlite:////tmp/lending.sqlite3"),
        _clean_env(DATABASE_URL="mysql://root:secret@127.0.0.1/lending"),
    ):
        result = _manage("check", env=env)
        assert result.returncode != 0
        assert "DATABASE_URL must name a PostgreSQL server (postgres://...)" in result.stderr
        assert "secret" not in result.stderr


def test_production_needs_database_url():
    env = _clean_env(
        DEBUG="0",
        SECRET_KEY="k" * 20 + "-production-secret-with-enough-entropy-0123456789-abcdefgh",
        FIELD_ENCRYPTION_KEY="hGYy1-0mH0oJ2Nq9qQ2bKpQG3YDX4SWqvqKhq6d9Lhg=",
        FIELD_HASH_KEY="blind-index-key-for-check",
        ALLOWED_HOSTS="lending.example.com",
    )
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DATABASE_URL must be set when DEBUG is off." in result.stderr


def _embedded(action: str, pgdata: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lending.embedded_db", action, "--pgdata", str(pgdata)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _book(url: str) -> dict:
    """What the demo book holds, read straight from the server."""
    with psycopg.connect(url) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "customers": one("SELECT count(*) FROM customers_customer"),
            "staff": one("SELECT count(*) FROM users_user WHERE kind = 'staff'"),
            "loans": one(
                "SELECT count(*) FROM servicing_loan WHERE origination_reference LIKE 'DEMO-%'"
            ),
            "payments": one("SELECT count(*) FROM servicing_payment"),
            "postings": one("SELECT count(*) FROM servicing_posting"),
            "statements": one("SELECT count(*) FROM servicing_statement"),
            "loans_without_statement": one(
                "SELECT count(*) FROM servicing_loan l WHERE l.disbursement_date < "
                "(SELECT date FROM core_businessdate) - 31 AND NOT EXISTS "
                "(SELECT 1 FROM servicing_statement s WHERE s.loan_id = l.id)"
            ),
            "applications": one("SELECT count(*) FROM origination_application"),
        }


@pytest.mark.slow
def test_make_run_path_on_embedded_postgresql(tmp_path):
    """What `make run` does with no DATABASE_URL: start the embedded
    PostgreSQL server (here in a temporary directory, so it never meets
    another test's server or the machine's own), migrate, and load the demo
    (twice: the loader is idempotent). The book is real: the ledger
    verifies, the ledger's append-only trigger refuses to change a posting,
    the statements its history implies exist and one renders to a PDF on
    first download. Then the server stops."""
    pgdata = tmp_path / "pgdata"
    started = _embedded("start", pgdata, _clean_env())
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    try:
        assert url.startswith("postgres://postgres@") and url.endswith("/lending")
        assert _embedded("url", pgdata, _clean_env()).stdout.strip() == url
        env = _clean_env(DATABASE_URL=url)
        with psycopg.connect(url) as conn:
            version = conn.execute("SHOW server_version_num").fetchone()[0]
            assert int(version) >= 180000
            # a Unix socket in the data directory, no TCP port
            assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""
        migrate = _manage("migrate", "--noinput", env=env)
        assert migrate.returncode == 0, migrate.stderr
        first = _manage("load_demo", env=env)
        assert first.returncode == 0, first.stderr
        assert "officer" in first.stdout and "demo-pass-2026" in first.stdout
        assert "200 loans (200 boarded now," in first.stdout
        book = _book(url)
        assert book["customers"] >= 40
        assert book["staff"] == 6
        assert book["loans"] == 200
        assert book["payments"] > 1000
        assert book["applications"] >= 10
        # every loan older than a cycle has its statements, one per cycle
        assert book["statements"] > 1000
        assert book["loans_without_statement"] == 0
        assert f"statements ... {book['statements']} made" in first.stdout

        second = _manage("load_demo", "--quiet", env=env)
        assert second.returncode == 0, second.stderr
        assert second.stdout == ""
        assert _book(url) == book

        verified = _manage("verify_ledger", env=env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert " 0 mismatches" in verified.stdout

        with psycopg.connect(url) as conn:
            with pytest.raises(
                psycopg.errors.RaiseException,
                match="Cannot update or delete rows from servicing_posting",
            ):
                conn.execute("UPDATE servicing_posting SET debit = debit + 1 WHERE id = 1")
            conn.rollback()
            with pytest.raises(
                psycopg.errors.RaiseException,
                match="Cannot update or delete rows from servicing_posting",
            ):
                conn.execute("DELETE FROM servicing_posting WHERE id = 1")
            conn.rollback()
            statement_id, sha256 = conn.execute(
                "SELECT id, sha256 FROM servicing_statement ORDER BY id LIMIT 1"
            ).fetchone()
        assert sha256 == ""  # demo statements render on first download
        rendered = _manage(
            "shell",
            "-c",
            "from servicing.models import Statement; "
            "from servicing.services.statements import statement_pdf; "
            f"s = Statement.objects.get(pk={statement_id}); pdf = statement_pdf(s); "
            "s.refresh_from_db(); print(pdf[:5].decode(), len(pdf) == len(s.pdf), s.sha256)",
            env=env,
        )
        assert rendered.returncode == 0, rendered.stderr
        magic, same, digest = rendered.stdout.strip().splitlines()[-1].split()
        assert (magic, same, len(digest)) == ("%PDF-", "True", 64)
    finally:
        stopped = _embedded("stop", pgdata, _clean_env())
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    assert _embedded("url", pgdata, _clean_env()).returncode == 1
    assert not (pgdata / "postmaster.pid").exists()


def test_compose_stack_is_complete_and_health_checked():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert "healthcheck" in services[name], name
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "lending", "worker"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in services["beat"]["command"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert (ROOT / "Dockerfile").exists()


def test_celery_is_json_only_acks_late_and_eager_without_redis(settings):
    from lending.celery import app

    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.task_time_limit == 600
    assert isinstance(app.conf.beat_schedule, dict)
