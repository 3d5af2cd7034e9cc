"""The OpenAPI document describes exactly the routes the app has."""

import json
import re

from app import app
from chalicelib.api.openapi import document, operations


def test_every_route_is_documented_and_every_documented_route_exists(api):
    doc = api.call("GET", "/v1/openapi.json").json_body
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    routed = set(operations(app))
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed == set(), "documented routes the app does not have"


def test_every_route_went_through_the_operation_decorator():
    undecorated = [key for key, op in operations(app).items() if op is None]
    assert undecorated == []


def test_the_document_is_openapi_3_1_with_resolvable_schemas():
    doc = document(app)
    assert doc["openapi"].startswith("3.1")
    schemas = doc["components"]["schemas"]
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas
    join = doc["paths"]["/v1/me"]["post"]
    assert join["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/JoinRequest")
    assert set(schemas["JoinRequest"]["required"]) == {"name", "phone", "birthday", "marketing_consent"}
    assert join["x-roles"] == ["customer"]


def _untyped(schema, where):
    """The places in ``schema`` that say nothing of a value's shape: ``{}`` or a bare object."""
    if not isinstance(schema, dict):
        return []
    found = []
    described = {"type", "$ref", "anyOf", "oneOf", "allOf", "const", "enum", "prefixItems"}
    if not described & set(schema):
        found.append(where)
    if schema.get("type") == "object" and "properties" not in schema:
        extra = schema.get("additionalProperties", True)
        if extra is True or extra == {}:
            found.append(where)
    for key in ("properties", "$defs"):
        for name, sub in schema.get(key, {}).items():
            found += _untyped(sub, f"{where}.{name}")
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for n, sub in enumerate(schema.get(key, [])):
            found += _untyped(sub, f"{where}[{n}]")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _untyped(schema[key], f"{where}.{key}")
    return found


def test_every_field_of_every_response_has_a_declared_type():
    doc = document(app)
    components = doc["components"]["schemas"]
    pending = [
        op["responses"][status]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for item in doc["paths"].values()
        for op in item.values()
        for status in op["responses"]
        if status != "4XX"
        and "application/json" in op["responses"][status].get("content", {})
        and "$ref" in op["responses"][status]["content"]["application/json"]["schema"]
    ]
    seen, untyped = set(), []
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        untyped += _untyped(components[name], name)
        pending += [ref.rsplit("/", 1)[1] for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(components[name]))]
    assert untyped == []


def test_the_crm_export_is_documented_as_csv():
    op = document(app)["paths"]["/v1/reports/members.csv"]["get"]
    assert set(op["responses"]["200"]["content"]) == {"text/csv"}
    assert "X-Next-Cursor" in op["responses"]["200"]["headers"]
