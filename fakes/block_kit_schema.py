"""Block Kit's shapes as Slack publishes them: messages, modals and Home tabs checked against
`specs/slack/block-kit.schema.json`, generated from Slack's own types (`@slack/types`) by
`tools/block_kit_schema.sh`.

`fakes/block_kit.py` counts characters and items; this says whether each object is one Slack knows,
with only the keys and kinds it allows: a button's text must be `plain_text`, a context block holds
only text and images, a misspelt key is refused. slack_sdk's models accept some of these; Slack does
not. Each check returns one reason, worded as Slack words its own (`… [json-pointer:/blocks/0/text]`),
or None.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, relevance

SCHEMA = Path(__file__).resolve().parent.parent / "specs" / "slack" / "block-kit.schema.json"


@cache
def _validator(definition: str) -> Draft7Validator:
    """One compiled validator per shape, built on first use and kept: the schema is read once."""
    return Draft7Validator({"$ref": f"#/definitions/{definition}", "definitions": _definitions()})


@cache
def _definitions() -> dict[str, Any]:
    definitions: dict[str, Any] = json.loads(SCHEMA.read_text())["definitions"]
    return definitions


def message_blocks_problem(blocks: list[Any]) -> str | None:
    """A message's `blocks` (chat.postMessage, chat.update, chat.postEphemeral, response_url)."""
    return _blocks_problem(blocks, "/blocks")


def view_problem(view: dict[str, Any]) -> str | None:
    """A modal (views.open, views.push, views.update) or a Home tab (views.publish)."""
    definition = {"modal": "Modal", "home": "Home"}.get(view.get("type", ""))
    if definition is None:
        return f"{view.get('type')!r} is not a view type Slack accepts [json-pointer:/view/type]"
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return _problem(definition, view, "/view")
    return _problem(definition, {**view, "blocks": []}, "/view") or _blocks_problem(blocks, "/view/blocks")


def view_answer_problem(answer: dict[str, Any]) -> str | None:
    """A view_submission's answer that updates the modal or pushes another (`response_action`)."""
    if answer.get("response_action") not in ("update", "push"):
        return None  # `errors` and `clear` carry no view
    view = answer.get("view")
    if not isinstance(view, dict):
        return _problem("ViewSubmissionAnswer", answer, "")
    shell = {**answer, "view": {**view, "blocks": []}}
    return _problem("ViewSubmissionAnswer", shell, "") or _blocks_problem(view.get("blocks") or [], "/view/blocks")


def _blocks_problem(blocks: list[Any], prefix: str) -> str | None:
    """Each block against the member of `KnownBlock` its `type` names: the same verdict as the whole
    union, without trying twenty members on every block (this keeps the suite's time unchanged)."""
    if not isinstance(blocks, list):
        return _problem("MessageBlocks", blocks, prefix)
    members = _block_members()
    for index, block in enumerate(blocks):
        member = members.get(block.get("type")) if isinstance(block, dict) else None
        problem = _problem(member or "KnownBlock", block, f"{prefix}/{index}")
        if problem:
            return problem
    return None


@cache
def _block_members() -> dict[str, str]:
    """Block type → its definition, read from the schema's `KnownBlock` union."""
    definitions = _definitions()
    members: dict[str, str] = {}
    for branch in definitions["KnownBlock"]["anyOf"]:
        name = branch["$ref"].rsplit("/", 1)[-1]
        kind = definitions[name].get("properties", {}).get("type", {}).get("const")
        if kind:  # a member that is itself a union (an image by URL or by file) is tried whole
            members[kind] = name
    return members


def _problem(definition: str, instance: Any, prefix: str) -> str | None:
    validator = _validator(definition)
    if validator.is_valid(instance):  # the common case, and the cheap one
        return None
    error = _meant(max(validator.iter_errors(instance), key=relevance))
    pointer = prefix + "".join(f"/{part}" for part in error.absolute_path)
    return f"{_words(error)} [json-pointer:{pointer or '/'}]"


def _meant(error: ValidationError) -> ValidationError:
    """Inside a union (any block, any element), the failure of the member the sender meant: the one
    whose `type` matched. Without this, every mistake reads "is not valid under any of the given schemas"."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[ValidationError]] = defaultdict(list)
        for sub in error.context:
            branches[sub.relative_schema_path[0]].append(sub)
        meant = [errors for errors in branches.values() if not _wrong_type(errors, error)]
        if not meant:
            return error  # no member has this `type`: said as such by _words
        error = max(min(meant, key=len), key=relevance)
    return error


def _wrong_type(errors: Iterable[ValidationError], union: ValidationError) -> bool:
    """Whether a union member failed on the object's own `type` (so it is not the member meant)."""
    at_type = [*union.absolute_path, "type"]
    for error in errors:
        if error.validator == "const" and list(error.absolute_path) == at_type:
            return True
        if error.validator in ("anyOf", "oneOf") and list(error.absolute_path) == list(union.absolute_path):
            nested: dict[Any, list[ValidationError]] = defaultdict(list)
            for sub in error.context:
                nested[sub.relative_schema_path[0]].append(sub)
            if nested and all(_wrong_type(branch, union) for branch in nested.values()):
                return True
    return False


def _words(error: ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf"):
        instance = error.instance
        if isinstance(instance, dict) and "type" in instance:
            return f"Slack has no {instance['type']!r} here"
        return "matches none of the shapes Slack accepts here"
    return error.message
