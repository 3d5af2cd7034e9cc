"""Joining, the profile, leaving and the export, through the API."""

from chalicelib.store.members import ClaimModel, MemberModel


def test_joining_returns_the_profile_with_a_card_and_a_referral_code(api):
    response = api.join("alice", phone="0151 2345 6789", timezone="Europe/Lisbon", home_store_id="s_kiez_mitte")
    assert response.status_code == 201
    profile = response.json_body
    assert profile["customer_id"].startswith("cus_")
    assert profile["phone"] == "+4915123456789"
    assert profile["tier"] == "Bronze" and profile["points_balance"] == 0
    assert len(profile["card_number"]) == 10 and len(profile["referral_code"]) == 8
    assert profile["timezone"] == "Europe/Lisbon" and profile["home_store_id"] == "s_kiez_mitte"
    assert profile["tier_progress"]["next_tier"] == "Silver"
    assert profile["discount_percent"] == 5
    assert api.call("GET", "/v1/me", api.customer("alice")).json_body == profile


def test_a_second_join_of_the_same_account_is_409_and_changes_nothing(api):
    first = api.join("alice").json_body
    again = api.join("alice", phone="0151 99999999")
    assert again.status_code == 409
    assert again.json_body["error"]["code"] == "already_member"
    assert api.call("GET", "/v1/me", api.customer("alice")).json_body["phone"] == first["phone"]
    assert ClaimModel.count("phone#+4915199999999") == 0


def test_a_phone_number_belongs_to_one_member_in_any_format(api):
    assert api.join("alice", phone="0151 23456789").status_code == 201
    taken = api.join("bob", phone="+49 151 2345 6789")
    assert taken.status_code == 409
    assert taken.json_body["error"]["code"] == "phone_taken"
    assert api.call("GET", "/v1/me", api.customer("bob")).status_code == 404
    assert MemberModel.count("bob") == 0


def test_a_referral_code_links_the_new_member_to_the_friend_who_brought_them(api):
    alice = api.join("alice").json_body
    bob = api.join("bob", phone="0151 11111111", referral_code=alice["referral_code"].lower())
    assert bob.status_code == 201
    export = api.call("GET", "/v1/me/export", api.customer("bob")).json_body
    assert export["referred_by"] == alice["customer_id"]


def test_an_unknown_referral_code_is_refused_naming_the_field(api):
    response = api.join("bob", referral_code="ZZZZ2222")
    assert response.status_code == 422
    assert response.json_body["error"]["field"] == "referral_code"
    assert api.call("GET", "/v1/me", api.customer("bob")).status_code == 404


def test_profile_changes_are_saved_and_returned(api):
    api.join("alice")
    token = api.customer("alice")
    body = {
        "name": "  Alice B.  ",
        "marketing_consent": False,
        "quiet_hours": {"start": "22:00", "end": "07:30"},
        "interests": ["coffee", "cake", "coffee"],
        "timezone": "Europe/Paris",
    }
    response = api.call("PATCH", "/v1/me", token, body)
    assert response.status_code == 200
    profile = response.json_body
    assert profile["name"] == "Alice B."
    assert profile["marketing_consent"] is False
    assert profile["quiet_hours"] == {"start": "22:00", "end": "07:30"}
    assert profile["interests"] == ["coffee", "cake"]
    cleared = api.call("PATCH", "/v1/me", token, {"quiet_hours": None}).json_body
    assert cleared["quiet_hours"] is None and cleared["name"] == "Alice B."


def test_patching_before_joining_is_404(api):
    response = api.call("PATCH", "/v1/me", api.customer("nobody"), {"name": "X"})
    assert response.status_code == 404
    assert MemberModel.count("nobody") == 0


def test_an_empty_or_nulling_patch_is_refused(api):
    api.join("alice")
    token = api.customer("alice")
    assert api.call("PATCH", "/v1/me", token, {}).status_code == 422
    response = api.call("PATCH", "/v1/me", token, {"name": None})
    assert response.status_code == 422


def test_leaving_erases_personal_data_frees_the_phone_and_allows_a_fresh_join(api):
    first = api.join("alice").json_body
    token = api.customer("alice")
    api.call("POST", "/v1/me/devices", token, {"token": "fcm-token-aaaaaaaa", "platform": "android"})
    assert api.call("DELETE", "/v1/me", token).status_code == 204
    assert api.call("GET", "/v1/me", token).status_code == 404
    assert api.call("DELETE", "/v1/me", token).status_code == 404
    # Nothing personal is left: the member item is gone, the tombstones hold only ids.
    assert MemberModel.count("alice") == 0
    assert ClaimModel.count("phone#+4915123456789") == 0
    tombstone = ClaimModel.get(f"card#{first['card_number']}")
    assert tombstone.status == "retired" and tombstone.sub is None
    assert tombstone.customer_id == first["customer_id"]
    # The phone is free for someone else, and the same person may join again as a new member.
    again = api.join("alice").json_body
    assert again["customer_id"] != first["customer_id"]
    assert again["card_number"] != first["card_number"]
    # The old card no longer finds anybody.
    old = api.call("GET", f"/v1/cards/{first['card_number']}", api.cashier())
    assert old.status_code == 404


def test_the_export_holds_everything_stored_about_me(api):
    joined = api.join("alice").json_body
    token = api.customer("alice")
    api.call("POST", "/v1/me/devices", token, {"token": "fcm-token-aaaaaaaa", "platform": "ios"})
    export = api.call("GET", "/v1/me/export", token).json_body
    assert export["profile"] == api.call("GET", "/v1/me", token).json_body
    assert export["profile"]["customer_id"] == joined["customer_id"]
    assert [d["token"] for d in export["devices"]] == ["fcm-token-aaaaaaaa"]
    kinds = {i["kind"]: i["value"] for i in export["identifiers"]}
    assert kinds["phone"] == "+4915123456789" and kinds["sub"] == "alice"
    assert kinds["card_number"] == joined["card_number"]


def test_leaving_with_points_forfeits_them_on_the_anonymous_ledger(api):
    from chalicelib.store.ledger import LedgerEntryModel

    joined = api.join("alice").json_body
    body = {"card": joined["card_number"], "store_id": "s_kiez_mitte", "amount": 5000, "currency": "EUR"}
    earned = api.call("POST", "/v1/purchases", api.cashier(), body, headers={"Idempotency-Key": "k"}).json_body
    assert earned["points_balance"] > 0
    assert api.call("DELETE", "/v1/me", api.customer("alice")).status_code == 204
    entries = list(LedgerEntryModel.query(joined["customer_id"], scan_index_forward=False))
    assert entries[0].reason == "forfeited_on_leaving"
    assert entries[0].points == -earned["points_balance"] and entries[0].balance_after == 0
    assert sum(e.points for e in entries) == 0
