import pytest
from structlog.testing import capture_logs

from chalicelib.domain.offers import Offer, Trigger
from chalicelib.services.skipped_offers import Skipped
from chalicelib.store.wallet import OffersRefused


def offer(offer_id):
    return Offer(offer_id, "t", Trigger("checkin"), {})


def test_a_refused_offer_is_left_out_of_every_later_attempt_and_logged_without_personal_data():
    skipped = Skipped()
    with capture_logs() as logs:
        skipped.add(OffersRefused({"o1": "budget_spent"}))
    assert [(o.offer_id, e) for o, e in skipped.kept([(offer("o1"), "e1"), (offer("o2"), "e2")])] == [("o2", "e2")]
    assert logs == [{"event": "offer_skipped", "offer_id": "o1", "reason": "budget_spent", "log_level": "warning"}]


def test_a_refusal_naming_only_offers_already_left_out_is_raised_not_retried_forever():
    skipped = Skipped()
    skipped.add(OffersRefused({"o1": "already_in_wallet"}))
    skipped.add(OffersRefused({"o1": "already_in_wallet", "o2": "budget_spent"}))
    with pytest.raises(OffersRefused):
        skipped.add(OffersRefused({"o2": "budget_spent"}))
    assert skipped.offer_ids == {"o1", "o2"}
