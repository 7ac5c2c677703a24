"""Block Kit as Slack's client draws it, roughly: HTML for the README's pictures (`make screenshots`).

Every block and element type Perch uses has a drawing here; anything else raises `NoRendering`, and
the fake Slack records that as an error, so a new element without a drawing fails the tests loudly.
mrkdwn is drawn as Slack does: links, mentions, dates by their fallback, *bold*, _italic_, ~strike~,
`code`, quotes and line breaks. Text arrives Slack-escaped (`&amp;`, `&lt;`, `&gt;`), which is already
valid HTML.
"""

from __future__ import annotations

import html
import re
from typing import Any

STYLE = """
body { font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; font-size: 15px;
       color: #1d1c1d; background: #fff; margin: 0; padding: 16px; width: 760px; }
.msg { display: flex; gap: 10px; padding: 8px 12px; } .msg:hover { background: #f8f8f8; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #1d3557; color: #fff; font-weight: 700;
          display: flex; align-items: center; justify-content: center; flex: none; }
.who { font-weight: 900; } .app { font-size: 10px; background: #ddd; border-radius: 3px; padding: 1px 3px;
       margin-left: 4px; color: #555; } .when { color: #616061; font-size: 12px; margin-left: 6px; }
.section { margin: 4px 0; line-height: 1.45; } .fields { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; }
.context { color: #616061; font-size: 13px; margin: 4px 0; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.button { border: 1px solid #bbb; border-radius: 4px; padding: 4px 12px; font-weight: 700; font-size: 14px;
          background: #fff; } .primary { background: #007a5a; color: #fff; border-color: #007a5a; }
.danger { background: #e01e5a; color: #fff; border-color: #e01e5a; }
.select { border: 1px solid #bbb; border-radius: 4px; padding: 4px 12px; color: #616061; min-width: 140px; }
.header { font-size: 18px; font-weight: 900; margin: 6px 0; } hr { border: 0; border-top: 1px solid #ddd; }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
a { color: #1264a3; text-decoration: none; } blockquote { border-left: 4px solid #ddd; margin: 2px 0;
  padding-left: 8px; } code { background: #f6f6f6; border: 1px solid #ddd; border-radius: 3px; color: #e01e5a;
  padding: 0 3px; font-size: 13px; } pre { background: #f6f6f6; border: 1px solid #ddd; padding: 8px; }
.thread { margin-left: 46px; border-left: 2px solid #eee; } .label { font-weight: 700; margin-top: 10px; }
.input { border: 1px solid #bbb; border-radius: 4px; padding: 8px; min-height: 40px; white-space: pre-wrap; }
.hint { color: #616061; font-size: 12px; } .modal { border: 1px solid #ddd; border-radius: 8px;
  box-shadow: 0 4px 12px rgba(0,0,0,.15); padding: 0 16px 16px; }
.modal-title { font-size: 20px; font-weight: 900; padding: 16px 0; border-bottom: 1px solid #eee; }
.modal-foot { display: flex; justify-content: flex-end; gap: 8px; margin-top: 16px; }
.chart { max-width: 700px; border: 1px solid #eee; border-radius: 6px; margin-top: 6px; }
"""


class NoRendering(ValueError):
    """A block or element type with no drawing here."""


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def message_html(blocks: list[dict[str, Any]], *, when: str = "14:02", thread: list[str] | None = None) -> str:
    """One message by Perch (and, below it, its thread's messages, already drawn)."""
    body = (
        '<div class="msg"><div class="avatar">P</div><div>'
        f'<span class="who">Perch</span><span class="app">APP</span><span class="when">{when}</span>'
        f"{render_blocks(blocks)}</div></div>"
    )
    if thread:
        body += '<div class="thread">' + "".join(thread) + "</div>"
    return body


def view_html(view: dict[str, Any]) -> str:
    """A modal (title, blocks, Cancel and Submit) or a Home tab."""
    blocks = render_blocks(view.get("blocks") or [])
    if view.get("type") == "home":
        return f'<div class="modal">{blocks}</div>'
    title = html.escape((view.get("title") or {}).get("text", ""))
    submit = html.escape((view.get("submit") or {}).get("text", ""))
    close = html.escape((view.get("close") or {}).get("text", "Cancel"))
    foot = f'<span class="button">{close}</span>' + (f'<span class="button primary">{submit}</span>' if submit else "")
    return (
        f'<div class="modal"><div class="modal-title">{title}</div>{blocks}<div class="modal-foot">{foot}</div></div>'
    )


def drawing_problem(blocks: Any) -> str | None:
    """Why these blocks cannot be drawn (a type with no drawing here), for the fake Slack to report."""
    try:
        render_blocks(blocks if isinstance(blocks, list) else [])
    except NoRendering as error:
        return f"no rendering: {error}"
    except (KeyError, TypeError, AttributeError):
        return None  # malformed blocks: Block Kit's own checks say what is wrong
    return None


def render_blocks(blocks: list[dict[str, Any]]) -> str:
    return "".join(_block(block) for block in blocks)


def _block(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "section":
        out = f'<div class="section">{_text(block["text"])}</div>' if block.get("text") else ""
        if block.get("fields"):
            out += '<div class="fields">' + "".join(f"<div>{_text(f)}</div>" for f in block["fields"]) + "</div>"
        if block.get("accessory"):
            out += f'<div class="actions">{_element(block["accessory"])}</div>'
        return out
    if kind == "context":
        return '<div class="context">' + " ".join(_context_element(e) for e in block.get("elements", [])) + "</div>"
    if kind == "actions":
        return '<div class="actions">' + "".join(_element(e) for e in block.get("elements", [])) + "</div>"
    if kind == "header":
        return f'<div class="header">{_text(block["text"])}</div>'
    if kind == "divider":
        return "<hr>"
    if kind == "input":
        hint = f'<div class="hint">{_text(block["hint"])}</div>' if block.get("hint") else ""
        optional = ' <span class="hint">(optional)</span>' if block.get("optional") else ""
        return f'<div class="label">{_text(block["label"])}{optional}</div>{_element(block["element"])}{hint}'
    raise NoRendering(f"no drawing for a {kind!r} block")


def _context_element(element: dict[str, Any]) -> str:
    if element.get("type") in ("mrkdwn", "plain_text"):
        return _text(element)
    raise NoRendering(f"no drawing for a {element.get('type')!r} context element")


def _element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        style = element.get("style", "")
        return f'<span class="button {html.escape(style)}">{_text(element["text"])}</span>'
    if kind in ("static_select", "external_select", "users_select"):
        chosen = (element.get("initial_option") or {}).get("text") or element.get("placeholder")
        return f'<span class="select">{_text(chosen) if chosen else "Select…"} ▾</span>'
    if kind == "plain_text_input":
        return f'<div class="input">{html.escape(element.get("initial_value", ""))}</div>'
    if kind in ("radio_buttons", "checkboxes"):
        on, off = ("◉", "○") if kind == "radio_buttons" else ("☑", "☐")
        chosen = {o.get("value") for o in [element.get("initial_option") or {}, *element.get("initial_options", [])]}
        return "".join(
            f"<div>{on if o.get('value') in chosen else off} {_text(o['text'])}</div>"
            for o in element.get("options", [])
        )
    raise NoRendering(f"no drawing for a {kind!r} element")


def _text(obj: dict[str, Any]) -> str:
    if obj.get("type") == "plain_text":
        return html.escape(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn_html(obj.get("text", ""))
    raise NoRendering(f"no drawing for a {obj.get('type')!r} text object")


_CONTROL = re.compile(r"<([^<>]*)>")


def mrkdwn_html(text: str) -> str:
    """Slack's mrkdwn as HTML (text is Slack-escaped already, so only control sequences are `<…>`)."""
    text = text.replace('"', "&quot;")
    text = _CONTROL.sub(_control, text)
    text = re.sub(r"```(.+?)```", r"<pre>\1</pre>", text, flags=re.S)
    text = re.sub(r"`([^`\n]+)`", r"<code>\1</code>", text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"<b>\1</b>", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"<i>\1</i>", text)
    text = re.sub(r"(?<![\w~])~([^~\n]+)~(?![\w~])", r"<s>\1</s>", text)
    lines = [f"<blockquote>{line[1:]}</blockquote>" if line.startswith(">") else line for line in text.split("\n")]
    return "<br>".join(lines).replace("</blockquote><br>", "</blockquote>")


def _control(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return f'<span class="mention">@{html.escape(label or _people.get(target[1:], target[1:]))}</span>'
    if target.startswith("#"):
        return f'<span class="mention">#{html.escape(label or target[1:])}</span>'
    if target.startswith("!subteam^"):
        return f'<span class="mention">{label or "@team"}</span>'
    if target.startswith("!date^"):
        return label
    if target.startswith("!"):
        return f'<span class="mention">@{target[1:]}</span>'
    return f'<a href="{target}">{label or target}</a>'


_people = {"U0AGENT1": "sam", "U0AGENT2": "alex", "U0STAFF": "jfk-ops", "U0LEAD": "lead"}
