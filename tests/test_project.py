"""Project-level checks: production settings, the SQLite path of `make run`,
and the shape of the production-like compose stack."""

import os
import subprocess
import sys
from pathlib import Path

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
        DATABASE_URL="sqlite:////tmp/check-deploy.sqlite3",
    )
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_mode_refuses_to_start_without_secrets():
    env = _clean_env(DEBUG="0", ALLOWED_HOSTS="lending.example.com")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


@pytest.mark.slow
def test_sqlite_path_of_make_run_migrates_and_loads_demo(tmp_path):
    """What `make run` does with no database server: migrate a fresh SQLite
    file and load the demo data (twice: the loader is idempotent)."""
    db = tmp_path / "run.sqlite3"
    env = _clean_env(DATABASE_URL=f"sqlite:///{db}")
    migrate = _manage("migrate", "--noinput", env=env)
    assert migrate.returncode == 0, migrate.stderr
    first = _manage("load_demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "officer" in first.stdout and "demo-pass-2026" in first.stdout
    second = _manage("load_demo", "--quiet", env=env)
    assert second.returncode == 0, second.stderr
    verified = _manage("verify_ledger", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert " 0 mismatches" in verified.stdout
    count = _manage(
        "shell",
        "-c",
        "from customers.models import Customer; from users.models import User; "
        "print(Customer.objects.count(), User.objects.filter(kind='staff').count())",
        env=env,
    )
    customers, staff = map(int, count.stdout.strip().splitlines()[-1].split())
    assert customers >= 40
    assert staff == 6


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
