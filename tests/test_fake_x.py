"""The fake X is held to X's published OpenAPI description, so the bot's traffic is too.

A request X would refuse gets X's 400 problem here; what the fake answers fits the description's
response schemas (sampled from real bot runs and from tweepy's own DM calls).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import tweepy

from fakes.x_api import DM_READ_LIMIT, FakeX, x_time
from fakes.x_openapi import INVALID_REQUEST, x_openapi
from tests.helpers import Clock, cycle, minutes_ago

AUTH = {"Authorization": "Bearer test"}


def get(fake_x: FakeX, path: str, **params: str) -> requests.Response:
    return requests.get(fake_x.url + path, params=params, headers=AUTH, timeout=5)


def assert_invalid(answer: requests.Response, parameter: str, words: str) -> None:
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["type"] == INVALID_REQUEST and body["title"] == "Invalid Request"
    assert body["detail"] == "One or more parameters to your request was invalid."
    assert any(parameter in e.get("parameters", {}) and words in e["message"] for e in body["errors"]), body
    for header in ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"):
        assert header in answer.headers, "errors carry the rate-limit headers too"


def test_a_misspelled_field_gets_xs_400(fake_x):
    answer = get(fake_x, f"/2/users/{fake_x.brand['id']}/mentions", **{"tweet.fields": "craeted_at"})
    assert_invalid(answer, "tweet.fields", "The `tweet.fields` query parameter value [craeted_at] is not one of [")
    assert answer.json()["errors"][0]["parameters"] == {"tweet.fields": ["craeted_at"]}


@pytest.mark.parametrize(
    ("path", "params", "parameter", "words"),
    [
        (
            "/2/users/5920532/mentions",
            {"next_token": "a"},
            "next_token",
            "The query parameter [next_token] is not one of",
        ),
        ("/2/tweets/search/recent", {"query": "x", "previous_token": "a"}, "previous_token", "is not one of"),
        ("/2/users/5920532/mentions", {"max_results": "101"}, "max_results", "is not between 5 and 100"),
        ("/2/tweets/search/recent", {"query": "x", "max_results": "5"}, "max_results", "is not between 10 and 100"),
        ("/2/dm_events", {"max_results": "0"}, "max_results", "is not between 1 and 100"),
        ("/2/users/5920532/mentions", {"expansions": "author"}, "expansions", "value [author] is not one of"),
        ("/2/users/me", {"user.fields": "followers"}, "user.fields", "value [followers] is not one of"),
        ("/2/dm_events", {"dm_event.fields": "sender"}, "dm_event.fields", "value [sender] is not one of"),
        ("/2/dm_events", {"event_types": "MessageCreated"}, "event_types", "is not one of"),
        ("/2/users/5920532/tweets", {"exclude": "quotes"}, "exclude", "is not one of"),
        ("/2/users/5920532/mentions", {"since_id": "12ab"}, "since_id", "is not valid"),
        ("/2/users/5920532/mentions", {"start_time": "yesterday"}, "start_time", "is not valid"),
        ("/2/tweets/search/recent", {}, "query", "can not be empty"),
    ],
)
def test_requests_x_refuses_are_refused(fake_x, path, params, parameter, words):
    assert_invalid(get(fake_x, path, **params), parameter, words)


def test_a_repeated_parameter_is_refused(fake_x):
    answer = requests.get(
        fake_x.url + "/2/users/5920532/mentions?max_results=10&max_results=20", headers=AUTH, timeout=5
    )
    assert_invalid(answer, "max_results", "Duplicate parameters are not allowed")


def test_pagination_parameter_per_endpoint(fake_x):
    for n in range(15):
        fake_x.add_tweet(f"@Delta page test {n}", f"pager{n}", created_at=minutes_ago(30 - n))
    timeline = get(fake_x, "/2/users/5920532/mentions", max_results="10").json()
    second = get(
        fake_x, "/2/users/5920532/mentions", max_results="10", pagination_token=timeline["meta"]["next_token"]
    ).json()
    assert len(timeline["data"]) == 10 and len(second["data"]) == 5
    search = get(fake_x, "/2/tweets/search/recent", query="page", max_results="10").json()
    rest = get(
        fake_x, "/2/tweets/search/recent", query="page", max_results="10", next_token=search["meta"]["next_token"]
    ).json()
    assert len(rest["data"]) == 5


def test_a_body_that_does_not_fit_the_schema_is_refused(fake_x):
    answer = requests.post(
        fake_x.url + "/2/tweets", json={"text": "hi", "reply": {"in_reply_to_tweet_idd": "1"}}, headers=AUTH, timeout=5
    )
    assert answer.status_code == 400 and answer.json()["type"] == INVALID_REQUEST
    assert "in_reply_to_tweet_idd" in answer.text and fake_x.posted == []
    answer = requests.post(
        fake_x.url + "/2/dm_conversations/with/1001/messages", json={"txet": "hello"}, headers=AUTH, timeout=5
    )
    assert answer.status_code == 400 and fake_x.dms == []
    answer = requests.post(
        fake_x.url + "/2/tweets", data=b'{"text": "hi"}', headers={**AUTH, "Content-Type": "text/plain"}, timeout=5
    )
    assert answer.status_code == 400 and "content-type of application/json" in answer.text


def test_search_time_rules(fake_x):
    now = datetime.now(UTC)
    old = get(fake_x, "/2/tweets/search/recent", query="x", start_time=x_time(now - timedelta(days=8)))
    assert_invalid(old, "start_time", "'start_time' must be on or after")
    fresh = get(fake_x, "/2/tweets/search/recent", query="x", end_time=x_time(now - timedelta(seconds=3)))
    assert_invalid(fresh, "end_time", "'end_time' must be a minimum of 10 seconds prior to the request time")
    edge = minutes_ago(5).replace(microsecond=0)
    inside = fake_x.add_tweet("@Delta on the edge", "edgy", created_at=edge)
    answer = get(fake_x, "/2/tweets/search/recent", query="edge", end_time=x_time(edge)).json()
    assert "data" not in answer and answer["meta"]["result_count"] == 0, "end_time is exclusive"
    answer = get(fake_x, "/2/tweets/search/recent", query="edge", start_time=x_time(edge)).json()
    assert [t["id"] for t in answer["data"]] == [inside], "start_time is inclusive"


def test_every_answer_carries_rate_limit_headers_and_a_spent_window_answers_429(fake_x):
    fake_x.rate_limit_per_window = 2
    answers = [get(fake_x, "/2/users/me") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["x-rate-limit-remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[2].json()["title"] == "Too Many Requests"
    fake_x.script(r"/users/me$", status=503, body={"title": "Service Unavailable"})
    assert "x-rate-limit-reset" in get(fake_x, "/2/users/me").headers, "scripted faults too"


def test_dm_events_page_newest_first_with_senders_and_the_dm_read_limit(fake_x):
    clock = Clock(time.time())
    fake_x.clock = clock
    customer = fake_x.add_user("dm_customer", "DM Customer")
    quoted = fake_x.add_tweet("@Delta my bag", customer, created_at=minutes_ago(60))
    ids = [
        fake_x.add_dm(
            f"message {n}",
            customer,
            created_at=minutes_ago(50 - n),
            referenced_tweet=quoted if n == 0 else None,
            media_keys=["3_1"] if n == 1 else None,
        )
        for n in range(5)
    ]
    client = tweepy.Client(bearer_token="test", return_type=requests.Response)
    client.session.request = _to(fake_x, client.session.request)  # tweepy's own requests, sent to the fake
    fields = ["created_at", "sender_id", "dm_conversation_id", "referenced_tweets", "attachments"]
    first = client.get_direct_message_events(
        dm_event_fields=fields,
        expansions=["sender_id"],
        max_results=3,
        event_types="MessageCreate",
        user_fields=["username"],
        user_auth=False,
    )
    body = first.json()
    assert [e["id"] for e in body["data"]] == ids[::-1][:3]
    assert body["includes"]["users"][0]["username"] == "dm_customer"
    assert body["data"][0]["dm_conversation_id"] == f"{customer['id']}-{fake_x.brand['id']}", "lower id first"
    rest = client.get_direct_message_events(
        dm_event_fields=fields, max_results=3, user_auth=False, pagination_token=body["meta"]["next_token"]
    ).json()
    assert [e["id"] for e in rest["data"]] == ids[1::-1]
    assert rest["data"][0]["attachments"] == {"media_keys": ["3_1"]} and rest["data"][1]["referenced_tweets"]
    with_one = client.get_direct_message_events(participant_id=customer["id"], user_auth=False)
    assert len(with_one.json()["data"]) == 5
    limited = [get(fake_x, "/2/dm_events").status_code for _ in range(DM_READ_LIMIT)]
    assert limited.count(200) == DM_READ_LIMIT - 2 and limited[-2:] == [429, 429], "15 per 15 min, 2 spent above"
    clock.advance(901)
    assert get(fake_x, "/2/dm_events").status_code == 200


def test_the_fakes_answers_fit_xs_response_schemas(make_bot, fake_x, fake_slack):
    """Sample what the fake sent in a real bot run (paged timelines, expansions, replies, DMs, errors)."""
    for n in range(120):
        fake_x.add_tweet(f"@Delta sample {n}", f"sampler{n % 7}", created_at=minutes_ago(100 - n * 0.5))
    parent = fake_x.add_tweet("@Delta parent", "threader", created_at=minutes_ago(3))
    fake_x.add_tweet("@Delta follow up", "threader", reply_to=parent, created_at=minutes_ago(2))
    fake_x.add_tweet("look", "quoter", quote_of=parent, created_at=minutes_ago(1))
    bot = make_bot(X_SEARCH_QUERIES="sample")
    cycle(bot)
    bot.x.reply("Sorry to hear it", parent)
    bot.x.send_dm(fake_x.users[fake_x.tweets[parent].author_id]["id"], "Hello in DM")
    fake_x.add_dm("my booking is ABC123", "threader")
    get(fake_x, "/2/dm_events", **{"dm_event.fields": "created_at,sender_id", "expansions": "sender_id"})
    get(fake_x, "/2/users/5920532/mentions", max_results="1000")
    api = x_openapi()
    checked = 0
    for request in fake_x.requests:
        op, _known = api.find(request.method, request.path)
        assert op is not None and request.response is not None
        assert api.check_response(op, request.response.status, request.response.body) == [], request.path
        checked += 1
    assert checked >= 8 and {r.response.status for r in fake_x.requests if r.response} >= {200, 201, 400}


def _to(fake_x: FakeX, send):
    def request(method, url, *args, **kwargs):
        return send(method, url.replace("https://api.twitter.com", fake_x.url), *args, **kwargs)

    return request
