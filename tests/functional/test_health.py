"""GET /v1/health is 200 only while DynamoDB answers."""

import socket

from chalicelib.store.catalog import CatalogItem


def test_health_is_ok_when_the_store_answers(api):
    response = api.call("GET", "/v1/health")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok"}


def test_health_is_503_when_the_store_does_not_answer(api, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setattr(CatalogItem.Meta, "host", f"http://127.0.0.1:{closed}")
    monkeypatch.setattr(CatalogItem.Meta, "max_retry_attempts", 0)
    monkeypatch.setattr(CatalogItem, "_connection", None)
    try:
        response = api.call("GET", "/v1/health")
    finally:
        CatalogItem._connection = None
    assert response.status_code == 503
    assert response.json_body["error"]["code"] == "store_unavailable"
