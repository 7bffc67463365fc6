#!/usr/bin/env bash
# `make run`: migrate, load the demo portfolio, and serve on
# http://${HOST:-127.0.0.1}:${PORT:-8000}. With no DATABASE_URL it starts the
# embedded PostgreSQL server (lending.embedded_db, data in var/pgdata) and
# stops it when this script exits; with DATABASE_URL set it uses that server
# and starts nothing. With REDIS_URL set it also starts a Celery worker and
# beat next to the web server; without it Celery tasks run in-process.
# RUN_STARTED (seconds since the epoch; make sets it when `make run` starts)
# dates the "Ready in" figure.
set -euo pipefail
cd "$(dirname "$0")/.."

started=${RUN_STARTED:-$(date +%s)}
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
mkdir -p var

pids=()
embedded=""
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$embedded" ]; then $PY -m lending.embedded_db stop || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${DATABASE_URL:-}" ]; then
  embedded=1
  echo "Database: starting the embedded PostgreSQL server (data in var/pgdata)"
  DATABASE_URL=$($PY -m lending.embedded_db start)
  export DATABASE_URL
  echo "          DATABASE_URL=$DATABASE_URL"
else
  # the server as given, without its password
  echo "Database: $(printf '%s' "$DATABASE_URL" | sed -E 's#^([a-z]+://[^:@/]*):[^@/]*@#\1:***@#')"
fi
echo "Redis:    ${REDIS_URL:-not set (Celery tasks run in-process)}"

step=$(date +%s)
echo "Migrating the database"
$PY manage.py migrate --noinput -v 0
echo "  migrated in $(($(date +%s) - step)) s"
# The demo's notices go to example.com addresses (the portal shows them), so
# they are not printed here; its warnings and task logs go to a file, shown
# if the load fails.
if ! EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend \
  $PY manage.py load_demo 2>var/load_demo.log; then
  echo
  cat var/load_demo.log >&2
  exit 1
fi

if [ -n "${REDIS_URL:-}" ]; then
  echo "Starting Celery worker and beat (logs in var/celery-*.log)"
  .venv/bin/celery -A lending worker --loglevel=INFO --concurrency=2 >var/celery-worker.log 2>&1 &
  pids+=($!)
  .venv/bin/celery -A lending beat --loglevel=INFO \
    --scheduler django_celery_beat.schedulers:DatabaseScheduler >var/celery-beat.log 2>&1 &
  pids+=($!)
fi

# migrate has just run the system checks
$PY manage.py runserver "$HOST:$PORT" --noreload --skip-checks &
server=$!
pids+=("$server")
url="http://$HOST:$PORT/"
# Ready when the first page is served (any HTTP answer counts, such as a
# redirect to sign in); fail if the server exits first.
$PY -c '
import os, sys, time, urllib.error, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
while True:
    try:
        urllib.request.urlopen(url, timeout=5).close()
        break
    except urllib.error.HTTPError:
        break
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            sys.exit("The web server exited; see its output above.")
        time.sleep(0.2)
' "$url" "$server"
echo
echo "Serving on $url  (staff: /staff/  borrower portal: /portal/  API docs: /api/docs/)" \
  "· Ready in $(($(date +%s) - started)) s"
echo "Press Ctrl-C to stop."
wait "$server"
