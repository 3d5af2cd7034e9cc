"""The OpenAPI document describes exactly the routes the app has."""

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
