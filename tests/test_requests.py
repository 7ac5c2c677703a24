"""What anyone on the internet can send to `/slack/events`: refused before parsing, one short log line
each, never a 500 or a traceback."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import pytest
import requests

from tests.helpers import SIGNING_SECRET


def raw_post(url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(url, data=body, headers=headers, timeout=5)


def signed_bytes(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    timestamp = str(int(time.time()))
    basestring = f"v0:{timestamp}:".encode() + body
    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), basestring, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"\xff\xfe\x00not utf-8", {"Content-Type": "application/x-www-form-urlencoded"}, 401),
        (b"[1, 2, 3]", {"Content-Type": "application/json"}, 401),
        (b"payload={not", {"Content-Type": "application/x-www-form-urlencoded"}, 401),
        (b"payload=%7B%7D", {"X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": "v0=00"}, 401),
    ],
)
def test_unsigned_odd_requests_are_refused_before_parsing(serve, fake_slack, caplog, body, headers, status):
    served = serve()
    with caplog.at_level(logging.WARNING):
        answer = raw_post(served.url, body, headers)
    assert answer.status_code == status
    assert "Traceback" not in caplog.text and len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 0
    assert any("Refused a request" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe\x00not utf-8", "application/x-www-form-urlencoded"),
        (b"[1, 2, 3]", "application/json"),
        (b"payload={not", "application/x-www-form-urlencoded"),
        (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
    ],
)
def test_signed_but_malformed_requests_get_a_400(serve, fake_slack, caplog, body, content_type):
    served = serve()
    with caplog.at_level(logging.WARNING):
        answer = raw_post(served.url, body, signed_bytes(body, content_type))
    assert answer.status_code == 400 and "Traceback" not in caplog.text


def test_a_huge_body_is_refused_unread(serve, fake_slack):
    served = serve()
    body = b"payload=" + b"x" * 2_000_000
    assert raw_post(served.url, body, signed_bytes(body)).status_code == 413


def test_a_well_signed_request_still_reaches_bolt(serve, fake_slack):
    served = serve()
    body = b"ssl_check=1&token=x"
    assert raw_post(served.url, body, signed_bytes(body)).status_code == 200
