"""Push devices: register, move between members, unregister."""

from chalicelib.store.members import MAX_DEVICES_PER_MEMBER


def devices(api, sub):
    return [d["token"] for d in api.call("GET", "/v1/me/export", api.customer(sub)).json_body["devices"]]


def test_registering_a_device_twice_keeps_one(api):
    api.join("alice")
    token = api.customer("alice")
    for platform in ("android", "android"):
        response = api.call("POST", "/v1/me/devices", token, {"token": "fcm-aaaaaaaa", "platform": platform})
        assert response.status_code == 201
    assert devices(api, "alice") == ["fcm-aaaaaaaa"]


def test_a_token_moves_when_another_member_registers_it(api):
    api.join("alice")
    api.join("bob", phone="0151 11111111")
    body = {"token": "shared-phone-token", "platform": "ios"}
    api.call("POST", "/v1/me/devices", api.customer("alice"), body)
    api.call("POST", "/v1/me/devices", api.customer("bob"), body)
    assert devices(api, "alice") == []
    assert devices(api, "bob") == ["shared-phone-token"]


def test_the_oldest_device_makes_room_past_the_limit(api):
    api.join("alice")
    token = api.customer("alice")
    for i in range(MAX_DEVICES_PER_MEMBER + 2):
        api.call("POST", "/v1/me/devices", token, {"token": f"device-token-{i:02d}", "platform": "web"})
    kept = devices(api, "alice")
    assert len(kept) == MAX_DEVICES_PER_MEMBER
    assert "device-token-00" not in kept and f"device-token-{MAX_DEVICES_PER_MEMBER + 1:02d}" in kept


def test_unregistering_removes_only_my_own_device(api):
    api.join("alice")
    api.join("bob", phone="0151 11111111")
    api.call("POST", "/v1/me/devices", api.customer("alice"), {"token": "alice-token-1", "platform": "ios"})
    # Bob cannot remove Alice's device: to him it does not exist.
    assert api.call("DELETE", "/v1/me/devices/alice-token-1", api.customer("bob")).status_code == 404
    assert devices(api, "alice") == ["alice-token-1"]
    assert api.call("DELETE", "/v1/me/devices/alice-token-1", api.customer("alice")).status_code == 204
    assert devices(api, "alice") == []


def test_bad_device_bodies_name_the_field(api):
    api.join("alice")
    token = api.customer("alice")
    response = api.call("POST", "/v1/me/devices", token, {"token": "fcm-aaaaaaaa", "platform": "blackberry"})
    assert response.status_code == 422 and response.json_body["error"]["field"] == "platform"
    response = api.call("POST", "/v1/me/devices", token, {"token": "has spaces in it", "platform": "ios"})
    assert response.status_code == 422 and response.json_body["error"]["field"] == "token"
