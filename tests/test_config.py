"""Start-up settings: each missing or malformed one is a clear line of its own, all of them in one run
(at start-up and in `python -m bot doctor`), exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.config_reader import WHERE

ROOT = Path(__file__).resolve().parents[1]
SECRET = "xoxb-very-secret-token-value"

VALID = {
    "SLACK_BOT_TOKEN": SECRET,
    "SLACK_APP_TOKEN": "xapp-1-secret-app-token",
    "SLACK_QUEUE_CHANNEL": "C0QUEUE",
    "X_API_KEY": "key-secret",
    "X_API_SECRET": "api-secret-value",
    "X_ACCESS_TOKEN": "access-secret",
    "X_ACCESS_TOKEN_SECRET": "access-token-secret-value",
}


def run_bot(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_"))}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "missing", ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_QUEUE_CHANNEL", "X_API_KEY", "X_ACCESS_TOKEN_SECRET"]
)
def test_missing_setting_stops_start_up_with_one_line(missing, tmp_path):
    env = {k: v for k, v in VALID.items() if k != missing}
    result = run_bot(env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"perch: configuration error: {missing} is missing: set it to {WHERE[missing]}"]
    for value in VALID.values():
        assert value not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("POLL_INTERVAL_SECONDS", "soon", "POLL_INTERVAL_SECONDS is malformed"),
        ("POLL_INTERVAL_SECONDS", "0", "positive number"),
        ("POLL_INTERVAL_SECONDS", "nan", "finite"),
        ("SLACK_QUEUE_CHANNEL", "#support", "channel id"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token-secret", "should start with xoxb-"),
        ("SLACK_API_URL", "slack.com/api", "http(s) URL"),
        ("PORT", "99999", "TCP port"),
        ("SUPPORT_USERGROUP", "support-team", "user group id"),
        ("REPORT_TIMEZONE", "America", "IANA time zone"),  # a folder of the zone database, not a zone
        ("REPORT_TIMEZONE", "../../etc/passwd", "IANA time zone"),
        ("PII_DEFAULT_REGION", "Europe", "two-letter country code"),
        ("PII_PATTERNS", "booking=[A-Z", "not a regular expression"),
        ("PII_PATTERNS", "anything=x*", "matches an empty text"),
        ("REVIEW_USERGROUP", "S0NEWBIES", "needs SUPPORT_LEAD_USERGROUP"),
        ("AGENT_DAILY_REPLY_LIMIT", "many", "whole number"),
        ("REPORT_WEEKLY_DAY", "Someday", "day of the week"),
        ("BUSINESS_HOURS", "9 to 5", "should look like Mon-Fri 08:00-20:00"),
        ("BUSINESS_HOLIDAYS", "US", "needs BUSINESS_HOURS"),
    ],
)
def test_malformed_setting_is_named_and_its_value_not_shown(name, value, fragment, tmp_path):
    result = run_bot({**VALID, name: value}, tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert fragment in result.stderr and name in result.stderr
    if "secret" in value:
        assert value not in result.stderr


def test_a_newcomer_sees_every_missing_and_malformed_setting_in_one_run(tmp_path):
    """An empty `.env` and three typos: start-up and the doctor each name all of them at once, a line each."""
    (tmp_path / ".env").write_text("")
    typos = {"SLACK_BOT_TOKEN": "xoxp-user-token-secret", "PORT": "99999", "REPORT_TIMEZONE": "Mars/Olympus"}
    started = run_bot(typos, tmp_path)
    assert started.returncode == 2 and started.stdout == ""
    lines = started.stderr.strip().splitlines()
    assert all(line.startswith("perch: configuration error: ") for line in lines)
    named = [line.removeprefix("perch: configuration error: ").split()[0] for line in lines]
    assert named == [
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_QUEUE_CHANNEL",
        "X_API_KEY",
        "X_API_SECRET",
        "X_ACCESS_TOKEN",
        "X_ACCESS_TOKEN_SECRET",
        "REPORT_TIMEZONE",
        "PORT",
    ]
    assert "should start with xoxb-" in lines[0] and "xoxp-user-token-secret" not in started.stderr
    assert all(" is missing: set it to " in line for line in lines[1:7]) and "TCP port" in lines[-1]
    doctor = run_bot(typos, tmp_path, "doctor")
    assert doctor.returncode == 2 and doctor.stderr == ""
    assert doctor.stdout.splitlines() == [f"✗ Settings: {line.split(': ', 2)[2].rstrip('.')}." for line in lines]


def test_every_problem_is_collected_before_settings_are_refused():
    with pytest.raises(ConfigError) as refused:
        load_settings({**VALID, "X_API_SECRET": " ", "POLL_INTERVAL_SECONDS": "soon", "REVIEW_USERGROUP": "S0NEW"})
    assert [problem.split()[0] for problem in refused.value.problems] == [
        "X_API_SECRET",
        "POLL_INTERVAL_SECONDS",
        "REVIEW_USERGROUP",
    ]
    assert (
        refused.value.problems[2]
        == "REVIEW_USERGROUP needs SUPPORT_LEAD_USERGROUP: the leads who review the held replies"
    )
    business = {**VALID, "REPORT_TIMEZONE": "Nowhere", "BUSINESS_HOURS": "Mon-Fri 08:00-20:00"}
    with pytest.raises(ConfigError) as zone:
        load_settings(business)
    assert len(zone.value.problems) == 1 and "REPORT_TIMEZONE" in str(zone.value), "the zone is read twice, said once"


def test_http_mode_needs_the_signing_secret_not_the_app_token(tmp_path):
    env = {k: v for k, v in VALID.items() if k != "SLACK_APP_TOKEN"}
    result = run_bot(env, tmp_path, "--http")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"perch: configuration error: SLACK_SIGNING_SECRET is missing: set it to {WHERE['SLACK_SIGNING_SECRET']}"
    ]
    settings = load_settings({**env, "SLACK_SIGNING_SECRET": "s3cret"}, http_mode=True)
    assert settings.slack_app_token is None and settings.http_mode


def test_defaults_and_parsing():
    settings = load_settings(
        {
            **VALID,
            "X_SEARCH_QUERIES": " jetblue -from:JetBlue ; ;#jetblue ",
            "POLL_INTERVAL_SECONDS": "0.5",
            "X_API_URL": "http://127.0.0.1:9/",
        }
    )
    assert settings.x_search_queries == ("jetblue -from:JetBlue", "#jetblue")
    assert settings.poll_interval_seconds == 0.5  # no hidden minimum
    assert settings.x_api_url == "http://127.0.0.1:9"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_path == "perch.db" and settings.port == 3000
    assert settings.support_usergroup is None and settings.manager_usergroup is None
    assert SECRET not in repr(settings)


def test_blank_values_count_as_missing():
    with pytest.raises(ConfigError, match="X_API_SECRET is missing"):
        load_settings({**VALID, "X_API_SECRET": "   "})


def test_dotenv_in_working_directory_is_read_but_environment_wins(tmp_path):
    (tmp_path / ".env").write_text("\n".join(f"{k}={v}" for k, v in VALID.items()) + "\nPOLL_INTERVAL_SECONDS=abc\n")
    result = run_bot({"POLL_INTERVAL_SECONDS": "-1"}, tmp_path)
    assert result.returncode == 2
    assert "POLL_INTERVAL_SECONDS is malformed: it should be a positive number" in result.stderr


def test_a_file_that_is_not_a_database_stops_start_up_with_one_line(tmp_path):
    (tmp_path / "perch.db").write_text("this is not SQLite")
    result = run_bot({**VALID, "DATABASE_PATH": str(tmp_path / "perch.db")}, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"perch: cannot open the database {tmp_path / 'perch.db'}: file is not a database"
    ]
