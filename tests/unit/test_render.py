"""The Slack-like drawing behind `make screenshots`: mrkdwn as Slack shows it, and no silent gaps."""

from __future__ import annotations

import pytest

from fakes.slack_render import NoRendering, drawing_problem, mrkdwn_html, render_blocks


def test_mrkdwn_is_drawn_as_slack_shows_it():
    shown = mrkdwn_html("*Bold* _it_ ~gone~ `x` <https://x.com/a|View on X> <@U0AGENT1> <!date^1^{time}|14:02 UTC>")
    assert "<b>Bold</b>" in shown and "<i>it</i>" in shown and "<s>gone</s>" in shown and "<code>x</code>" in shown
    assert '<a href="https://x.com/a">View on X</a>' in shown and "@sam" in shown and "14:02 UTC" in shown
    assert mrkdwn_html("&lt;!channel&gt; &amp;") == "&lt;!channel&gt; &amp;", "Slack-escaped text stays text"
    assert mrkdwn_html(">quoted\nnext") == "<blockquote>quoted</blockquote>next"


def test_a_block_or_element_without_a_drawing_fails_loudly():
    with pytest.raises(NoRendering):
        render_blocks([{"type": "image", "image_url": "https://example.com/a.png", "alt_text": "a"}])
    problem = drawing_problem([{"type": "actions", "elements": [{"type": "datepicker", "action_id": "d"}]}])
    assert problem == "no rendering: no drawing for a 'datepicker' element"
    assert drawing_problem([{"type": "divider"}]) is None
