#!/usr/bin/env bash
# `make run`: migrate, load the demo portfolio, and serve on
# http://${HOST:-127.0.0.1}:${PORT:-8000}. With no DATABASE_URL it uses the
# SQLite file var/db.sqlite3; with REDIS_URL and DATABASE_URL both set it
# also starts a Celery worker and beat next to the web server.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
mkdir -p var

echo "Database: ${DATABASE_URL:-sqlite (var/db.sqlite3)}"
echo "Redis:    ${REDIS_URL:-not set (Celery tasks run in-process)}"
$PY manage.py migrate --noinput
$PY manage.py load_demo

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [ -n "${REDIS_URL:-}" ] && [ -n "${DATABASE_URL:-}" ]; then
  echo "Starting Celery worker and beat (logs in var/celery-*.log)"
  .venv/bin/celery -A lending worker --loglevel=INFO --concurrency=2 >var/celery-worker.log 2>&1 &
  pids+=($!)
  .venv/bin/celery -A lending beat --loglevel=INFO \
    --scheduler django_celery_beat.schedulers:DatabaseScheduler >var/celery-beat.log 2>&1 &
  pids+=($!)
fi

echo
echo "Serving on http://$HOST:$PORT/  (staff: /staff/  borrower portal: /portal/  API docs: /api/docs/)"
$PY manage.py runserver "$HOST:$PORT" --noreload
