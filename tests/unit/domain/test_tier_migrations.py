"""Tiers renamed or dropped never strand a member: the rules keep where each old name went."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.program import InvalidRules, ProgramRules, Tier, current_tier, migrate_tiers, retargeted_tiers


def rules(*names, migrations=None):
    tiers = (Tier(names[0]), *(Tier(n, min_spend_minor=1000 * (i + 1)) for i, n in enumerate(names[1:])))
    return ProgramRules(
        name="T",
        currency="EUR",
        default_region="DE",
        timezone="Europe/Berlin",
        tiers=tiers,
        tier_migrations=migrations or {},
    )


def saved(current, proposed, requested):
    return dataclasses.replace(proposed, tier_migrations=migrate_tiers(current, proposed, requested))


def test_dropping_a_tier_without_saying_where_its_members_go_is_refused_naming_tiers():
    with pytest.raises(InvalidRules) as refused:
        migrate_tiers(rules("Bronze", "Silver", "Gold"), rules("Bronze", "Silver"), {})
    assert refused.value.field == "tiers"
    assert "Gold" in str(refused.value) and "tier_migrations" in str(refused.value)


def test_a_rename_is_a_drop_with_a_migration_and_members_read_the_new_name():
    before = rules("Bronze", "Silver", "Gold")
    after = saved(before, rules("Bronze", "Silver", "Platinum"), {"Gold": "Platinum"})
    assert after.tier_migrations == {"Gold": "Platinum"}
    assert current_tier(after, "Gold") == "Platinum"
    assert current_tier(after, "Silver") == "Silver"


def test_earlier_migrations_follow_a_target_that_is_migrated_later():
    first = saved(rules("Bronze", "Silver", "Gold"), rules("Bronze", "Silver", "Platinum"), {"Gold": "Platinum"})
    second = saved(first, rules("Bronze", "Silver"), {"Platinum": "Silver"})
    assert second.tier_migrations == {"Gold": "Silver", "Platinum": "Silver"}
    assert current_tier(second, "Gold") == "Silver"


def test_the_rules_as_read_can_be_saved_back_with_their_migrations():
    first = saved(rules("Bronze", "Gold"), rules("Bronze", "Platinum"), {"Gold": "Platinum"})
    again = saved(first, rules("Bronze", "Platinum"), dict(first.tier_migrations))
    assert again.tier_migrations == {"Gold": "Platinum"}


def test_a_name_that_becomes_a_tier_again_is_no_longer_migrated():
    first = saved(rules("Bronze", "Gold"), rules("Bronze", "Platinum"), {"Gold": "Platinum"})
    back = saved(first, rules("Bronze", "Gold", "Platinum"), {})
    assert back.tier_migrations == {} and current_tier(back, "Gold") == "Gold"


@pytest.mark.parametrize(
    ("requested", "field"),
    [
        ({"Gold": "Gold"}, "tier_migrations.Gold"),  # Gold is kept
        ({"Silver": "Platinum"}, "tier_migrations.Silver"),  # to a tier the new rules lack
        ({"Diamond": "Bronze", "Silver": "Bronze"}, "tier_migrations.Diamond"),  # nobody holds Diamond
    ],
)
def test_a_migration_must_map_a_dropped_tier_to_a_kept_one(requested, field):
    with pytest.raises(InvalidRules) as refused:
        migrate_tiers(rules("Bronze", "Silver", "Gold"), rules("Bronze", "Gold"), requested)
    assert refused.value.field == field


def test_an_earlier_migration_cannot_be_pointed_elsewhere():
    first = saved(rules("Bronze", "Silver", "Gold"), rules("Bronze", "Silver", "Platinum"), {"Gold": "Platinum"})
    with pytest.raises(InvalidRules) as refused:
        migrate_tiers(first, rules("Bronze", "Silver", "Platinum"), {"Gold": "Silver"})
    assert refused.value.field == "tier_migrations.Gold"


NAMES = ["Bronze", "Silver", "Gold", "Platinum", "Diamond", "Iron"]


@given(st.lists(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True), min_size=1, max_size=6))
def test_every_tier_name_a_member_ever_held_reads_as_a_current_tier(histories):
    current = rules("Bronze")
    held = {"Bronze"}
    for names in histories:
        proposed = rules(*names)
        dropped = [t.name for t in current.tiers if t.name not in names]
        current = saved(current, proposed, dict.fromkeys(dropped, names[0]))
        held |= set(names)
        assert all(current_tier(current, name) in names for name in held)
        assert all(current_tier(current, name) == name for name in names)
        assert set(current.tier_migrations.values()) <= set(names)


def test_a_targeting_list_follows_migrated_tiers_and_keeps_the_rest():
    after = saved(rules("Bronze", "Silver", "Gold"), rules("Bronze", "Silver"), {"Gold": "Silver"})
    assert retargeted_tiers(after, ("Gold",)) == ("Silver",)
    assert retargeted_tiers(after, ("Silver", "Gold")) == ("Silver",)
    # Not the base tier's members: a name that was never a tier keeps aiming at nobody.
    assert retargeted_tiers(after, ("Bronze", "Mystery")) == ("Bronze", "Mystery")
