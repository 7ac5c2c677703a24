"""`python -m bot` (Socket Mode) and `python -m bot --http` (Bolt over WSGI), with the scheduler.

Start-up validates every setting first: each missing or malformed one prints a line naming it and the
fix (all of them in one run, never a value), then the exit code is 2.
SIGTERM and SIGINT stop cleanly: the server stops taking requests, running jobs finish, then exit.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sqlite3
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dotenv import find_dotenv, load_dotenv

from bot import __version__
from bot.app import Runtime, build_runtime, slack_client, x_client
from bot.config import ConfigError, Settings, load_settings
from bot.doctor import can_post, doctor
from bot.logs import formatter
from storage.engine import shown
from storage.errors import StorageError

log = logging.getLogger("bot")

# Loggers that print request headers (and so credentials) at DEBUG level.
_CHATTY_LOGGERS = ("tweepy", "oauthlib", "requests_oauthlib", "urllib3")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Perch: X mentions as a Slack queue.")
    parser.add_argument(
        "--http", action="store_true", help="serve Slack's HTTP requests on PORT instead of using Socket Mode"
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on in HTTP mode")
    parser.add_argument(
        "task",
        nargs="*",
        help="`doctor`: check the configuration against Slack and X; `locations import FILE`: load locations; "
        "`backup FILE`: a consistent copy of the database, safe while Perch runs",
    )
    args = parser.parse_args(argv)
    load_dotenv(find_dotenv(usecwd=True), override=False)
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"), os.environ.get("LOG_FORMAT", "text"))
    if args.task and args.task != ["doctor"]:
        return run_task(args.task)
    try:
        settings = load_settings(http_mode=args.http)
    except ConfigError as error:
        for problem in error.problems:
            if args.task:  # `doctor`: a ✗ line per setting, as its other checks print theirs
                print(f"✗ Settings: {problem.rstrip('.')}.")
            else:
                print(f"perch: configuration error: {problem}", file=sys.stderr)
        return 2
    if args.task:
        return run_doctor(settings)
    try:
        runtime = build_runtime(settings)
    except (StorageError, sqlite3.Error) as error:  # read-only file or folder, a full disk, not a database
        print(f"perch: cannot open the database {shown(settings.database)}: {error}", file=sys.stderr)
        return 2
    blocked = [f for f in can_post(settings, runtime.slack) if not f.ok]
    if blocked:  # nothing Perch does could reach Slack: say why now, not as failed posts in the log
        for finding in blocked:
            print(f"perch: {finding.line}", file=sys.stderr)
        print("perch: not starting; `python -m bot doctor` checks the rest", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runtime.scheduler.start()
    log.info(
        "Perch %s started (%s mode), posting to %s",
        __version__,
        "HTTP" if settings.http_mode else "Socket Mode",
        settings.slack_queue_channel,
    )
    try:
        if settings.http_mode:
            _serve_http(runtime, settings, args.host, stop)
        else:
            _serve_socket_mode(runtime, settings, stop)
    finally:
        runtime.scheduler.shutdown(wait=True)
        log.info("Perch stopped")
    return 0


def run_doctor(settings: Settings) -> int:
    """One line per check; exit 1 when something is wrong (the lines say what to do)."""
    print("✓ Settings: every setting is valid.")
    findings = doctor(settings, slack_client(settings), x_client(settings))
    for finding in findings:
        print(finding.line)
    return 0 if all(f.ok for f in findings) else 1


def run_task(task: list[str]) -> int:
    """One-off commands that need only the database (no Slack or X credentials)."""
    if len(task) == 2 and task[0] == "backup":
        return run_backup(task[1])
    if len(task) != 3 or task[:2] != ["locations", "import"]:
        print(
            "perch: unknown command; try `python -m bot locations import FILE` or `python -m bot backup FILE`",
            file=sys.stderr,
        )
        return 2
    return run_locations_import(task[2])


def run_backup(destination: str) -> int:
    """A consistent copy of the database (DATABASE_PATH), safe while Perch runs."""
    from storage.backup import BackupError, backup

    if os.environ.get("DATABASE_URL"):
        print("perch: backup copies a SQLite file; with DATABASE_URL, back up PostgreSQL with pg_dump", file=sys.stderr)
        return 2
    source = os.environ.get("DATABASE_PATH") or "perch.db"
    if not Path(source).is_file():
        print(f"perch: there is no database at {source} (DATABASE_PATH)", file=sys.stderr)
        return 2
    try:
        done = backup(source, destination)
    except (BackupError, StorageError, OSError) as error:
        print(f"perch: the backup was not written: {error}", file=sys.stderr)
        return 1
    print(f"Backed up {source} to {done.path}: {done.cases} cases, {done.size / 1_048_576:.1f} MiB")
    return 0


def run_locations_import(file: str) -> int:
    from bot.domain.locations import import_csv
    from storage.db import Store

    try:
        raw = Path(file).read_bytes()
    except OSError as error:
        print(f"perch: cannot read {file}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # a spreadsheet saved in its Windows encoding
        text = raw.decode("cp1252", errors="replace")
        print(f"perch: {file} is not UTF-8; read it as Windows-1252", file=sys.stderr)
    try:
        store = Store(os.environ.get("DATABASE_URL") or os.environ.get("DATABASE_PATH") or "perch.db")
    except (StorageError, sqlite3.Error) as error:
        print(f"perch: cannot open the database: {error}", file=sys.stderr)
        return 2
    report = import_csv(store, text)
    print(
        f"Imported {len(report.imported)} location(s)" + (f": {', '.join(report.imported)}" if report.imported else "")
    )
    for problem in report.problems:
        print(problem, file=sys.stderr)
    return 1 if report.problems else 0


def configure_logging(level: str, log_format: str = "text") -> None:
    """The root logger at `level` (LOG_LEVEL), its lines as text or JSON (LOG_FORMAT)."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level.upper() if level.upper() in logging._nameToLevel else "INFO", handlers=[handler])
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


def health(runtime: Runtime) -> dict[str, Any]:
    """What `GET /healthz` reports: the scheduler is alive, this process's role (the leader runs the
    jobs), the database's engine, and when each job runs next."""
    jobs = {job.id: getattr(job, "next_run_time", None) for job in runtime.scheduler.get_jobs()}  # none before start
    return {
        "ok": runtime.scheduler.running,
        "role": runtime.leader.role,
        "database": runtime.store.engine,
        "version": __version__,
        "jobs": {job: when.astimezone(UTC).isoformat() if when else None for job, when in jobs.items()},
        "time": datetime.now(UTC).isoformat(),
    }


def _serve_http(runtime: Runtime, settings: Settings, host: str, stop: threading.Event) -> None:
    from bot.server import http_server, stop_http_server

    server = http_server(
        runtime.app,
        lambda: health(runtime),
        host=host,
        port=settings.port,
        signing_secret=settings.slack_signing_secret,
        in_flight=runtime.in_flight,
        metrics=runtime.observer.exposition,
    )
    thread = threading.Thread(target=server.run, name="http", daemon=True)
    thread.start()
    log.info("Listening on http://%s:%s/slack/events", host, settings.port)
    stop.wait()
    stop_http_server(server, thread)  # requests in flight get Slack's 3 seconds to finish


def _serve_socket_mode(runtime: Runtime, settings: Settings, stop: threading.Event) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(runtime.app, app_token=settings.slack_app_token)
    handler.connect()
    stop.wait()
    handler.close()
