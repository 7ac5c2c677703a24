"""X API v2's own OpenAPI description, used to hold the fake X to what the real one accepts and sends.

`specs/x/x-api-v2-openapi.json` is X's published description (see `specs/README.md`). For every
request the fake receives, `XOpenAPI.check_request` finds the operation by method and path template and
checks what X checks: no query parameter the operation does not declare (so a timeline refuses
`next_token` and search refuses `previous_token`), none twice, each value against its schema (enums of
`tweet.fields`, `user.fields`, `expansions`, `dm_event.fields`; `max_results` ranges; id patterns;
date-times), required ones present, and a JSON body against the request body's schema. What fails comes
back as X's `400 Invalid Request` problem, with one `errors` entry per fault worded as X words it.
`check_response` validates a body the fake sent against the operation's response schema (a test samples
them), so the fake cannot drift from what X sends either.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource

SPEC_PATH = Path(__file__).resolve().parents[1] / "specs" / "x" / "x-api-v2-openapi.json"
_SPEC_URI = "urn:x-api-v2-openapi"
INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"


def problem(
    status: int, title: str, detail: str, type_: str = "about:blank", errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An RFC 7807 problem body as X sends it (`errors` only where X gives them)."""
    body: dict[str, Any] = {"title": title, "detail": detail, "type": type_}
    if type_ == "about:blank":
        body["status"] = status
    if errors:
        body["errors"] = errors
    return body


def invalid_request(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return problem(
        400, "Invalid Request", "One or more parameters to your request was invalid.", INVALID_REQUEST, errors
    )


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    pattern: re.Pattern[str]
    path_params: tuple[str, ...]
    query_params: dict[str, dict[str, Any]] = field(hash=False)
    body_schema: dict[str, Any] | None = field(hash=False)
    body_required: bool
    responses: dict[str, dict[str, Any]] = field(hash=False)


class XOpenAPI:
    """The operations of X's description, and the checks the fake runs with them."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.registry: Registry = Registry().with_resource(_SPEC_URI, Resource.opaque(spec))
        self.operations: list[Operation] = []
        for template, item in spec["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters":
                    continue
                self.operations.append(self._operation(method.upper(), template, op, shared))
        self._validators: dict[str, Draft7Validator] = {}

    def _operation(self, method: str, template: str, op: dict[str, Any], shared: list) -> Operation:
        params = [self.resolve(p) for p in [*shared, *op.get("parameters", [])]]
        names = re.findall(r"\{([^}]+)\}", template)
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$")
        body = op.get("requestBody")
        body_schema = None
        if body is not None:
            body = self.resolve(body)
            body_schema = (body.get("content", {}).get("application/json") or {}).get("schema")
        return Operation(
            method,
            template,
            op.get("operationId", ""),
            pattern,
            tuple(names),
            {p["name"]: p for p in params if p.get("in") == "query"},
            body_schema,
            bool(body and body.get("required")),
            op.get("responses", {}),
        )

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def validator(self, schema: dict[str, Any]) -> Draft7Validator:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            self._validators[key] = Draft7Validator(_rebase(schema), registry=self.registry)
        return self._validators[key]

    # -- finding the operation ----------------------------------------------------------------
    def find(self, method: str, path: str) -> tuple[Operation | None, bool]:
        """The operation for `method path`, and whether the path exists at all (for 404 vs 405)."""
        known = False
        for op in self.operations:
            if op.pattern.match(path):
                known = True
                if op.method == method:
                    return op, True
        return None, known

    # -- requests -----------------------------------------------------------------------------
    def check_request(
        self, op: Operation, path: str, query: list[tuple[str, str]], body: bytes, content_type: str
    ) -> list[dict[str, Any]]:
        """X's `errors` entries for everything wrong with this request; empty when X would accept it."""
        errors: list[dict[str, Any]] = []
        match = op.pattern.match(path)
        assert match is not None
        for name, value in zip(op.path_params, match.groups(), strict=True):
            param = next((p for p in self._path_params(op) if p["name"] == name), None)
            if param is not None and not self._valid(param, value):
                errors.append(_param_error(name, value, f"The `{name}` query parameter value [{value}] is not valid"))
        seen: dict[str, int] = {}
        for name, _value in query:
            seen[name] = seen.get(name, 0) + 1
        for name, value in query:
            param = op.query_params.get(name)
            if param is None:
                allowed = ",".join(op.query_params)
                errors.append(_param_error(name, value, f"The query parameter [{name}] is not one of [{allowed}]"))
            elif seen[name] > 1:
                errors.append(
                    _param_error(name, value, f"Duplicate parameters are not allowed: the `{name}` query parameter")
                )
                seen[name] = 0  # one entry per duplicated name
            elif seen[name] == 1:
                message = self._param_message(param, value)
                if message:
                    errors.append(_param_error(name, value, message))
        present = {name for name, _ in query}
        for name, param in op.query_params.items():
            if param.get("required") and name not in present:
                errors.append({"parameters": {name: []}, "message": f"The `{name}` query parameter can not be empty"})
        errors.extend(self._body_errors(op, body, content_type))
        return errors

    def _path_params(self, op: Operation) -> list[dict[str, Any]]:
        item = self.spec["paths"][op.template]
        params = [*item.get("parameters", []), *item[op.method.lower()].get("parameters", [])]
        return [p for p in (self.resolve(p) for p in params) if p.get("in") == "path"]

    def _param_message(self, param: dict[str, Any], value: str) -> str | None:
        name = param["name"]
        schema = self.resolve(param.get("schema", {}))
        if value == "":
            return f"The `{name}` query parameter can not be empty"
        if schema.get("type") == "array":
            items = self.resolve(schema.get("items", {}))
            values = value.split(",")
            bad = [v for v in values if not self._valid_value(items, v)]
            if bad and "enum" in items:
                return f"The `{name}` query parameter value [{bad[0]}] is not one of [{','.join(items['enum'])}]"
            if bad:
                return f"The `{name}` query parameter value [{bad[0]}] is not valid"
            if schema.get("uniqueItems") and len(set(values)) != len(values):
                return f"The `{name}` query parameter value [{value}] contains duplicate items"
            if "maxItems" in schema and len(values) > schema["maxItems"]:
                return f"The `{name}` query parameter value [{value}] has more than {schema['maxItems']} items"
            return None
        if schema.get("type") == "integer":
            try:
                number = int(value)
            except ValueError:
                return f"The `{name}` query parameter value [{value}] is not a valid integer"
            low, high = schema.get("minimum"), schema.get("maximum")
            if (low is not None and number < low) or (high is not None and number > high):
                return f"The `{name}` query parameter value [{value}] is not between {low} and {high}"
            return None
        if "enum" in schema and value not in schema["enum"]:
            return f"The `{name}` query parameter value [{value}] is not one of [{','.join(schema['enum'])}]"
        if not self._valid_value(schema, value):
            return f"The `{name}` query parameter value [{value}] is not valid"
        return None

    def _valid(self, param: dict[str, Any], value: str) -> bool:
        return self._valid_value(self.resolve(param.get("schema", {})), value)

    def _valid_value(self, schema: dict[str, Any], value: str) -> bool:
        schema = self.resolve(schema)
        if schema.get("format") == "date-time" and not _is_x_datetime(value):
            return False
        if schema.get("type") == "integer":
            try:
                int(value)
            except ValueError:
                return False
            return True
        return self.validator(schema).is_valid(value)

    def _body_errors(self, op: Operation, body: bytes, content_type: str) -> list[dict[str, Any]]:
        if op.body_schema is None:
            return []
        if not body:
            return [{"message": "A request body is required."}] if op.body_required else []
        if content_type.split(";")[0].strip().lower() != "application/json":
            return [{"parameters": {}, "message": "Requests with bodies must have content-type of application/json."}]
        try:
            document = json.loads(body)
        except ValueError:
            return [{"message": "The request body is not valid JSON."}]
        return [
            {"message": f"$.{'.'.join(str(p) for p in error.absolute_path)}: {error.message}".replace("$.:", "$:")}
            for error in self.validator(op.body_schema).iter_errors(document)
        ]

    # -- responses ----------------------------------------------------------------------------
    def check_response(self, op: Operation, status: int, body: Any) -> list[str]:
        """What is wrong with a body the fake sent, measured against the operation's response schema."""
        response = op.responses.get(str(status)) or op.responses.get("default")
        if response is None:
            return [f"{op.method} {op.template} declares no {status} answer"]
        content = self.resolve(response).get("content", {})
        schemas = [c["schema"] for c in content.values() if "schema" in c]
        if not schemas:
            return []
        found = [
            [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in self.validator(s).iter_errors(body)]
            for s in schemas
        ]
        return [] if any(not errors for errors in found) else found[0]


@cache
def x_openapi() -> XOpenAPI:
    """X's description, loaded once per process."""
    return XOpenAPI(json.loads(SPEC_PATH.read_text(encoding="utf-8")))


def _rebase(node: Any) -> Any:
    """Point the description's local `#/…` references at the registered spec."""
    if isinstance(node, dict):
        return {
            k: (_SPEC_URI + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rebase(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def _param_error(name: str, value: str, message: str) -> dict[str, Any]:
    return {"parameters": {name: [value]}, "message": message}


def _is_x_datetime(value: str) -> bool:
    """X takes RFC 3339 date-times with a zone (`2021-02-01T18:40:40Z`, `…40.000Z`, `…+00:00`)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
