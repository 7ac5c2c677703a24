"""Takeover time: two `python -m bot --http` processes on one SQLite file, the leader killed (kill -9)
or frozen (SIGSTOP), and the seconds until the other says `"role": "leader"` on `/healthz`.

A kill -9 on the same host is seen at the standby's next renewal (the holder's pid is gone), so it
takes over at once; a frozen leader (or a dead one on another host) is taken over when its lease
expires, within `LEADER_LEASE_SECONDS` plus one renewal (a third of it). Each figure is the median
of `--rounds` (5) takeovers, with the slowest; the frozen leader's return to standby after SIGCONT
is printed too.

    .venv/bin/python bench/failover.py [--lease 15] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import postgres_location  # noqa: E402
from fakes.slack_api import FakeSlack  # noqa: E402
from fakes.x_api import FakeX  # noqa: E402

QUEUE = "C0BENCH"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Perch:
    """One bot process and its health check."""

    def __init__(self, env: dict[str, str], workdir: str) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/healthz"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--http", "--host", "127.0.0.1"],
            env={**env, "PORT": str(port)},
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def role(self) -> str | None:
        try:
            return requests.get(self.url, timeout=0.5).json()["role"]
        except requests.RequestException:
            return None

    def wait_for(self, role: str, timeout: float = 120.0) -> float:
        """Seconds until the process says `role` (polled every 10 ms)."""
        started = time.monotonic()
        while self.role() != role:
            if time.monotonic() - started > timeout:
                raise SystemExit(f"no {role} after {timeout:.0f}s")
            time.sleep(0.01)
        return time.monotonic() - started

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
        self.process.wait(timeout=10)


def takeovers(env: dict[str, str], workdir: str, rounds: int, how: str) -> tuple[list[float], list[float]]:
    """(seconds from the kill or freeze until the standby leads, seconds from SIGCONT until the old
    leader stands by) for each round; the standby of one round leads the next."""
    leader = Perch(env, workdir)
    leader.wait_for("leader")
    taken, back = [], []
    for _ in range(rounds):
        standby = Perch(env, workdir)
        standby.wait_for("standby")
        time.sleep(1.0)  # a settled pair: a renewal or two by each
        if how == "kill":
            started = time.monotonic()
            leader.process.kill()
            leader.process.wait()
        else:
            started = time.monotonic()
            leader.process.send_signal(signal.SIGSTOP)
        standby.wait_for("leader")
        taken.append(time.monotonic() - started)
        if how == "stop":
            leader.process.send_signal(signal.SIGCONT)
            back.append(leader.wait_for("standby"))
        leader.end()
        leader = standby
    leader.end()
    return taken, back


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lease", type=float, default=15.0, help="LEADER_LEASE_SECONDS")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--engines", default="both", help="sqlite, postgresql or both")
    args = parser.parse_args()
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        os.environ.pop(name, None)
    print(f"LEADER_LEASE_SECONDS={args.lease:g} (renewed every {args.lease / 3:.2f}s), {args.rounds} rounds each")
    for engine in ("sqlite", "postgresql") if args.engines == "both" else (args.engines,):
        workdir = tempfile.mkdtemp(prefix="perch-bench-failover-")
        if engine == "postgresql":
            url, server = postgres_location(None, workdir)
            database = {"DATABASE_URL": url}
        else:
            database, server = {"DATABASE_PATH": os.path.join(workdir, "perch.db")}, None
        try:
            run_engine(engine, database, workdir, args.lease, args.rounds)
        finally:
            if server is not None:
                server.cleanup()


def run_engine(engine: str, database: dict[str, str], workdir: str, lease: float, rounds: int) -> None:
    """Both takeovers on one engine, two processes on one database."""
    with FakeX() as x, FakeSlack(channels=(QUEUE,)) as slack:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": "bench-secret",
            "SLACK_QUEUE_CHANNEL": QUEUE,
            "SLACK_API_URL": slack.url + "/api/",
            "X_API_URL": x.url,
            "X_API_KEY": "k",
            "X_API_SECRET": "s",
            "X_ACCESS_TOKEN": "t",
            "X_ACCESS_TOKEN_SECRET": "ts",
            **database,
            "POLL_INTERVAL_SECONDS": "5",
            "SLACK_CHANNEL_POST_INTERVAL_SECONDS": "0",
            "LEADER_LEASE_SECONDS": str(lease),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        killed, _ = takeovers(env, workdir, rounds, "kill")
        print(
            f"{engine}: kill -9 of the leader → standby leads: median {statistics.median(killed):.2f}s, "
            f"max {max(killed):.2f}s"
        )
        frozen, back = takeovers(env, workdir, rounds, "stop")
        bound = lease + lease / 3
        print(
            f"{engine}: SIGSTOP of the leader → standby leads: median {statistics.median(frozen):.2f}s, "
            f"max {max(frozen):.2f}s (bound: lease + one renewal = {bound:.2f}s)"
        )
        print(
            f"{engine}: SIGCONT → the old leader stands by: median {statistics.median(back):.2f}s, max {max(back):.2f}s"
        )


if __name__ == "__main__":
    main()
