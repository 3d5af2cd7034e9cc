"""The figures that matter reach CloudWatch as Embedded Metric Format lines, one per invocation,
counting what was committed (a replay counts nothing twice)."""

import json
import uuid

import pytest

from tests.functional.test_purchases import buy


@pytest.fixture
def emitted(monkeypatch, capsys):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    capsys.readouterr()

    def read():
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
        for line in lines:
            (directive,) = line["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == "Loyalty" and line["service"] == "loyalty"
        # A figure's values, summed (EMF carries a list of them when one was counted several times).
        return [
            {k: sum(v) if isinstance(v, list) else v for k, v in line.items() if k not in ("_aws", "service")}
            for line in lines
        ]

    return read


def test_a_purchase_is_one_line_with_its_points_and_a_replay_adds_nothing(api, emitted):
    card = api.join("mia", phone="0151 23456780").json_body["card_number"]
    emitted()
    key = str(uuid.uuid4())
    result = buy(api, card, 2500, key=key).json_body
    assert emitted() == [{"Purchases": 1.0, "PointsIssued": float(result["points_earned"])}]
    assert buy(api, card, 2500, key=key).status_code == 201
    assert emitted() == []


def test_a_check_in_counts_itself_and_the_offers_it_issued(api, emitted):
    api.join("noa", phone="0151 23456781")
    emitted()
    sighting = {"type": "geo", "lon": 13.4016, "lat": 52.5303, "accuracy_m": 15}
    response = api.call("POST", "/v1/me/checkins", api.customer("noa"), sighting)
    assert response.status_code == 200
    (line,) = emitted()
    assert line["Checkins"] == 1.0
    assert line.get("OffersIssued", 0.0) == float(len(response.json_body["offers"]))


def test_nothing_is_printed_when_metrics_are_disabled(api, emitted, monkeypatch):
    card = api.join("ola", phone="0151 23456782").json_body["card_number"]
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    emitted()
    assert buy(api, card, 2500).status_code == 201
    assert emitted() == []
