"""storage/ on a fresh database: the schema, what ingest writes, one winner per claim, rows by name."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import pytest

from storage.bulk import bulk_candidates
from storage.cases import claim, get_card
from storage.db import migrate, rows_as, rows_as_named
from storage.migrations import MIGRATIONS
from storage.tweets import Cursor, Tweet, advance_cursor, get_cursor, store_tweets


def tweet(tweet_id: str, at: str, *, author: str = "900", conversation: str | None = None) -> Tweet:
    return Tweet(
        id=tweet_id,
        text=f"@Brand help {tweet_id}",
        author_id=author,
        created_at=at,
        conversation_id=conversation or tweet_id,
        author_handle=f"c{author}",
        author_name="C",
    )


def test_every_migration_applies_once(fresh_db):
    assert fresh_db["migrations"].count == len(MIGRATIONS)
    migrate(fresh_db)  # a restart
    assert fresh_db["migrations"].count == len(MIGRATIONS)
    assert {"tweets", "cases", "events", "replies", "escalations", "incidents", "alarms"} <= set(fresh_db.table_names())


def test_a_tweet_stored_twice_is_one_row_and_a_follow_up_joins_its_case(fresh_db):
    first = store_tweets(fresh_db, [tweet("101", "2026-03-10T10:00:00+00:00")])
    again = store_tweets(fresh_db, [tweet("101", "2026-03-10T10:00:00+00:00")])
    follow_up = store_tweets(fresh_db, [tweet("102", "2026-03-10T10:05:00+00:00", conversation="101")])
    assert (first.stored, again.stored, again.duplicates) == (1, 0, 1)
    assert follow_up.follow_ups == 1 and follow_up.cases_opened == []
    assert fresh_db["tweets"].count == 2 and fresh_db["cases"].count == 1


def test_the_cursor_never_moves_back(fresh_db):
    advance_cursor(fresh_db, Cursor("mentions", "200", "2026-03-10T10:00:00+00:00"))
    advance_cursor(fresh_db, Cursor("mentions", "150", "2026-03-10T09:00:00+00:00"))  # a late, older tweet
    assert get_cursor(fresh_db, "mentions") == Cursor("mentions", "200", "2026-03-10T10:00:00+00:00")


def test_two_claims_one_winner(fresh_db):
    (case_id,) = store_tweets(fresh_db, [tweet("301", "2026-03-10T10:00:00+00:00")]).cases_opened
    won, lost = claim(fresh_db, case_id, "U0ANNA"), claim(fresh_db, case_id, "U0BOB")
    assert (won.outcome, lost.outcome) == ("ok", "taken")
    card = get_card(fresh_db, case_id)
    assert card is not None and card.assignee == "U0ANNA" and card.status == "claimed"


def test_rows_map_to_dataclasses_by_column_name(fresh_db):
    @dataclass
    class Pair:
        first: str
        second: int

    rows = rows_as(Pair, fresh_db.execute("SELECT 7 AS second, 'a' AS first"))
    assert rows == [Pair(first="a", second=7)]


def test_rows_map_to_named_tuples_only_when_the_columns_are_their_fields_in_order(fresh_db):
    class Pair(NamedTuple):
        first: str
        second: int

    assert rows_as_named(Pair, fresh_db.execute("SELECT 'a' AS first, 7 AS second")) == [Pair("a", 7)]
    with pytest.raises(ValueError, match="not the fields of Pair"):
        rows_as_named(Pair, fresh_db.execute("SELECT 7 AS second, 'a' AS first"))


def test_a_bulk_reply_goes_only_to_customers_whose_posts_summon_the_brand(fresh_db):

    fresh_db["incidents"].insert(
        {"id": 1, "term": "cancel", "label": "cancelled", "opened_at": "2026-03-10T10:00:00+00:00", "card_version": 0}
    )
    summoned = replace_summoned(tweet("401", "2026-03-10T10:00:00+00:00", author="1"), True)
    bystander = replace_summoned(tweet("402", "2026-03-10T10:01:00+00:00", author="2"), False)
    cases_opened = store_tweets(fresh_db, [summoned, bystander]).cases_opened
    fresh_db.execute("UPDATE cases SET incident_id = 1")
    assert bulk_candidates(fresh_db, 1) == [("1", cases_opened[0])]


def replace_summoned(value: Tweet, summoned: bool) -> Tweet:
    return replace(value, summoned=summoned)
