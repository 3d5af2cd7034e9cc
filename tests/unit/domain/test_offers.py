import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.offers import (
    Customer,
    Limits,
    Moment,
    Offer,
    Targeting,
    Trigger,
    choose_offers,
    is_eligible,
    unusable_because,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
REGULAR = Customer("Silver", 20, NOW - timedelta(days=3), {"coffee": 12, "cake": 2})
ARRIVAL = Moment("beacon", NOW, store_id="s1", zone="entrance", merchant_id="m1")


def offer(offer_id="o1", **fields):
    base = {
        "title": "A treat",
        "trigger": Trigger("checkin", store_id="s1"),
        "reward": {"type": "bonus_points", "points": 50},
    }
    return Offer(offer_id, **{**base, **fields})


def test_a_checkin_offer_answers_a_beacon_or_a_geofence_at_its_store_only():
    o = offer()
    assert is_eligible(o, ARRIVAL, REGULAR)
    assert is_eligible(o, Moment("geofence_enter", NOW, store_id="s1"), REGULAR)
    assert not is_eligible(o, Moment("beacon", NOW, store_id="s2"), REGULAR)
    assert not is_eligible(o, Moment("purchase", NOW, store_id="s1"), REGULAR)
    zoned = offer(trigger=Trigger("beacon", store_id="s1", zone="till"))
    assert not is_eligible(zoned, ARRIVAL, REGULAR)


def test_a_merchants_offer_naming_no_place_fires_only_at_that_merchants_stores():
    ours = offer(trigger=Trigger("checkin"), merchant_id="m1")
    assert is_eligible(ours, ARRIVAL, REGULAR)
    assert not is_eligible(ours, Moment("beacon", NOW, store_id="s9", merchant_id="m2"), REGULAR)
    cross = offer(trigger=Trigger("purchase", merchant_id="m2"), merchant_id="m1")
    assert is_eligible(cross, Moment("purchase", NOW, store_id="s9", merchant_id="m2"), REGULAR)
    program_wide = offer(trigger=Trigger("checkin"))
    assert is_eligible(program_wide, Moment("beacon", NOW, store_id="s9", merchant_id="m2"), REGULAR)


def test_targeting_by_tier_categories_visits_and_days_away():
    assert not is_eligible(offer(targeting=Targeting(tiers=("Gold",))), ARRIVAL, REGULAR)
    assert is_eligible(offer(targeting=Targeting(categories=("coffee",))), ARRIVAL, REGULAR)
    assert not is_eligible(offer(targeting=Targeting(categories=("shoes",))), ARRIVAL, REGULAR)
    assert not is_eligible(offer(targeting=Targeting(min_visits=50)), ARRIVAL, REGULAR)
    winback = offer(targeting=Targeting(min_days_since_last_visit=30))
    assert not is_eligible(winback, ARRIVAL, REGULAR)
    lapsed = Customer("Bronze", 4, NOW - timedelta(days=45))
    assert is_eligible(winback, ARRIVAL, lapsed)


def test_limits_budget_and_cooldown():
    assert not is_eligible(offer(limits=Limits(budget=100), issued=100), ARRIVAL, REGULAR)
    seen = Customer("Silver", 20, None, history={"o1": (1, NOW - timedelta(hours=2))})
    assert not is_eligible(offer(limits=Limits(per_customer=1)), ARRIVAL, seen)
    assert not is_eligible(offer(limits=Limits(cooldown_hours=24)), ARRIVAL, seen)
    assert is_eligible(offer(limits=Limits(cooldown_hours=1)), ARRIVAL, seen)


def test_no_per_customer_limit_means_no_cap_but_once_a_day_at_most():
    unlimited = offer()
    today = Customer("Silver", 20, None, history={"o1": (7, NOW - timedelta(hours=3))})
    assert not is_eligible(unlimited, ARRIVAL, today)
    yesterday = Customer("Silver", 20, None, history={"o1": (7, NOW - timedelta(hours=13))})
    assert is_eligible(unlimited, ARRIVAL, yesterday)


def test_the_day_is_the_programs_local_day():
    berlin = ZoneInfo("Europe/Berlin")
    # 23:30 and 00:30 in Berlin are two days there, one day in UTC.
    late = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
    customer = Customer("Silver", 20, None, history={"o1": (1, late)})
    after_midnight = Moment("beacon", late + timedelta(hours=1), store_id="s1", timezone=berlin)
    assert is_eligible(offer(), after_midnight, customer)
    assert not is_eligible(offer(), dataclasses.replace(after_midnight, timezone=UTC), customer)


def test_a_cooldown_replaces_the_day():
    seen = Customer("Silver", 20, None, history={"o1": (1, NOW - timedelta(minutes=30))})
    assert is_eligible(offer(limits=Limits(cooldown_hours=0)), ARRIVAL, seen)
    a_day_ago = Customer("Silver", 20, None, history={"o1": (1, NOW - timedelta(hours=25))})
    assert not is_eligible(offer(limits=Limits(cooldown_hours=48)), ARRIVAL, a_day_ago)


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    st.sampled_from([UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]),
    st.integers(0, 50),
)
def test_without_a_cooldown_an_offer_is_issued_again_exactly_on_a_later_local_day(last, gap, zone, times):
    customer = Customer("Silver", 20, None, history={"o1": (times, last)})
    moment = Moment("beacon", last + gap, store_id="s1", timezone=zone)
    later_day = (last + gap).astimezone(zone).date() > last.astimezone(zone).date()
    assert is_eligible(offer(), moment, customer) == later_day


def test_priority_then_affinity_decides_and_at_most_n_are_issued():
    cake = offer("cake", targeting=Targeting(categories=("cake",)))
    coffee = offer("coffee", targeting=Targeting(categories=("coffee",)))
    vip = offer("vip", priority=5)
    chosen = choose_offers([cake, coffee, vip], ARRIVAL, REGULAR, at_most=2)
    assert [o.offer_id for o in chosen] == ["vip", "coffee"]


offers_strategy = st.lists(
    st.builds(
        offer,
        offer_id=st.text("abcdef", min_size=1, max_size=4),
        targeting=st.builds(
            Targeting,
            tiers=st.sampled_from([(), ("Gold",), ("Silver", "Gold")]),
            categories=st.sampled_from([(), ("coffee",), ("shoes",)]),
            min_visits=st.one_of(st.none(), st.integers(0, 40)),
        ),
        limits=st.builds(
            Limits,
            per_customer=st.one_of(st.none(), st.integers(0, 3)),
            budget=st.one_of(st.none(), st.integers(0, 10)),
            cooldown_hours=st.one_of(st.none(), st.integers(0, 48)),
        ),
        issued=st.integers(0, 12),
        priority=st.integers(-2, 2),
        valid_from=st.one_of(st.none(), st.just(NOW + timedelta(days=1)), st.just(NOW - timedelta(days=1))),
    ),
    max_size=15,
)


@given(offers_strategy, st.integers(0, 3))
def test_no_offer_is_ever_chosen_outside_its_targeting_or_limits(offers, at_most):
    history = {"a": (2, NOW - timedelta(hours=5))}
    customer = Customer("Silver", 20, NOW - timedelta(days=3), {"coffee": 3}, history=history)
    chosen = choose_offers(offers, ARRIVAL, customer, at_most)
    assert len(chosen) <= at_most
    for o in chosen:
        t, lim = o.targeting, o.limits
        assert not t.tiers or "Silver" in t.tiers
        assert not t.categories or "coffee" in t.categories
        assert t.min_visits is None or t.min_visits <= 20
        assert lim.budget is None or o.issued < lim.budget
        count, last = history.get(o.offer_id, (0, None))
        assert lim.per_customer is None or count < lim.per_customer
        assert lim.cooldown_hours is None or last is None or NOW - last >= timedelta(hours=lim.cooldown_hours)
        assert lim.cooldown_hours is not None or last is None or last.date() < NOW.date()
        assert o.valid_from is None or o.valid_from <= NOW


def test_among_a_thousand_live_offers_the_best_two_are_chosen():
    categories = (("coffee",), ("cake",), ())
    offers = [
        offer(f"o{i:04d}", priority=i % 7, targeting=Targeting(categories=categories[i % 3])) for i in range(1000)
    ]
    chosen = choose_offers(offers, ARRIVAL, REGULAR, at_most=2)
    # The highest priority (6) first, and among those the coffee ones (the customer's favourite).
    assert [(o.priority, o.targeting.categories) for o in chosen] == [(6, ("coffee",)), (6, ("coffee",))]


def test_a_wallet_entry_is_usable_while_issued_unexpired_and_at_a_merchant_that_takes_it():
    later = NOW + timedelta(days=1)
    assert unusable_because("issued", later, "m1", "m1", NOW) is None
    assert unusable_because("issued", later, None, "m2", NOW) is None
    assert unusable_because("issued", later, "m1", None, NOW) is None  # an admin at no merchant's till
    assert unusable_because("issued", later, "m1", "m2", NOW) == "offer_wrong_merchant"
    assert unusable_because("issued", NOW, "m1", "m1", NOW) == "offer_expired"
    assert unusable_because("redeemed", later, "m1", "m1", NOW) == "offer_already_redeemed"


@given(
    st.sampled_from([None, "m1", "m2"]),
    st.sampled_from([None, "m1", "m2"]),
    st.sampled_from([None, "s1"]),
    st.sampled_from(["m1", "m2", "m3"]),
)
def test_an_offer_fires_at_another_merchant_only_if_it_is_program_wide_or_names_the_place(
    offer_merchant, trigger_merchant, trigger_store, at_merchant
):
    o = offer(
        trigger=Trigger("checkin", store_id=trigger_store, merchant_id=trigger_merchant), merchant_id=offer_merchant
    )
    moment = Moment("beacon", NOW, store_id="s1", merchant_id=at_merchant)
    if is_eligible(o, moment, REGULAR) and offer_merchant not in (None, at_merchant):
        assert trigger_merchant == at_merchant or trigger_store == "s1"


histories = st.dictionaries(
    st.text("abcdef", min_size=1, max_size=4),
    st.tuples(st.integers(1, 4), st.integers(0, 72).map(lambda h: NOW - timedelta(hours=h))),
    max_size=6,
)


@given(offers_strategy, histories, st.integers(1, 3))
def test_a_history_only_narrows_what_is_eligible(offers, history, at_most):
    # The issuing service reads the wallet only when an offer fits a customer without history.
    fresh = Customer("Silver", 20, NOW - timedelta(days=3), {"coffee": 3})
    seen = dataclasses.replace(fresh, history=history)
    for o in offers:
        assert not is_eligible(o, ARRIVAL, seen) or is_eligible(o, ARRIVAL, fresh)
    if not choose_offers(offers, ARRIVAL, fresh, at_most):
        assert not choose_offers(offers, ARRIVAL, seen, at_most)
