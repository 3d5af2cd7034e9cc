"""GET /v1/me: progress to the next tier is measured over the tier window, as purchases earn tiers."""

from datetime import UTC, datetime

from chalicelib.services import program
from chalicelib.store.members import MemberModel


def test_profile_tier_progress_ignores_spend_from_before_the_tier_window(api):
    api.join("alice")
    month = program.month_key(program.rules(), datetime.now(UTC))
    # Lifetime totals of a former regular; in the window only one small visit this month.
    MemberModel("alice").update(
        actions=[
            MemberModel.spend_total_minor.set(500_000),
            MemberModel.visits_total.set(61),
            MemberModel.monthly.set({"2020-01": [499_000, 60], month: [1_000, 1]}),
        ]
    )
    profile = api.call("GET", "/v1/me", api.customer("alice")).json_body
    assert profile["tier"] == "Bronze"
    assert profile["tier_progress"] == {
        "tier": "Bronze",
        "next_tier": "Silver",
        "spend_needed_minor": 29_000,
        "visits_needed": 11,
    }
