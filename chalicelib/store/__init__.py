"""DynamoDB access: PynamoDB models, key design and the transactions that use them.

Models never leave this package: repositories return domain objects. The key design, per table:

``members`` (hash ``sub``; GSIs ``by_expiry``, ``by_tier_review``, ``by_birthday``; stream NEW_AND_OLD_IMAGES)
    The member item, keyed by the user's token subject so ``GET /v1/me`` is one GetItem. Its
    stream keeps the members' columnar snapshot (``snapshot.py``) that segments and audiences read,
    and gives the CRM's webhooks their member events.
    Holds the profile, the balance with its debt and FIFO expiry lots, the per-month spend and
    visits of the tier window, and a ``revision`` every balance change is conditioned on.
    ``by_expiry`` (``expiry_month`` / ``expiry_due``) and ``by_tier_review`` (``review_month`` /
    ``tier_review_due``) are sparse, keys-only: the daily jobs query "due on or before today" in
    this month (and the months since their last run), never scan. ``by_birthday``
    (``birthday_md`` = ``MM-DD``, keys-only) finds the members whose birthday is on a day.
``activity`` (hash ``sub``; see ``activity.py``)
    One small item per member beside the member item (not in it: every purchase is conditioned
    on the member's revision, and check-ins must not contend with the till): the last check-in,
    the offers' issue history (per offer issued to the member: n and the last time) and the live
    wallet keys with their expiry. Keyed by the sub like the member, so one strongly consistent
    BatchGetItem reads the member, this item and ``catalog_version/current``: a check-in is that
    read and one transaction, whatever the member's history.
``claims`` (hash ``claim``)
    One item per unique value, written in the join transaction with ``attribute_not_exists``
    so uniqueness holds without a read-then-write race: ``phone#<E.164>``, ``card#<number>``,
    ``referral#<code>``, ``customer#<customer_id>``. Each points at the member's ``sub`` and
    ``customer_id``; the till's lookups by card number or phone are claim → member (a GetItem,
    then the member's BatchGetItem with the catalog's version); a QR names the member's key and
    skips the claim. When a member leaves, the phone claim is deleted (the number is free again)
    and the others are kept as ``retired`` tombstones, so a card number or code is never issued twice.
``devices`` (hash ``customer_id``, range ``token``; GSI ``by_token``)
    Push tokens of a member; the index finds a token registered by someone else, so a phone
    that changes hands moves its token instead of notifying two people.
``catalog`` (hash ``pk`` = kind, range ``sk`` = id)
    The program's few, slow-changing things: ``program/current`` (and ``program/v<n>``, every
    saved version), ``merchant/<id>``, ``store/<id>``, ``staff/<sub>``, ``beacon/<advertised
    identity>``, ``promotion/<id>``, ``offer/<id>``, ``webhook/<id>`` (a CRM's endpoint, its
    events and signing secret; not cached), ``segment/<id>`` (a saved audience: its
    definition and last membership count; not cached, so its writes leave the version alone),
    ``offer_issued/<offer_id>`` (an offer's
    issued count, an atomic counter conditioned on its budget), ``job/<name>`` (a job's last run),
    ``predictor_fit/<version>`` and ``predictor_fit/current`` (the anticipation model's fits,
    every version kept; not cached), ``seed/<name>`` (a data set written in full) and
    ``catalog_version/current`` (a counter every write of a definition bumps in its own
    transaction). Listing a kind is one Query on its partition, never a scan, and results are
    cached per warm Lambda, validated by ``catalog_version/current``.
``ledger``, ``purchases``, ``idempotency`` (see ``ledger.py``)
    Append-only entries per member, newest first by key; purchases by id; idempotency records by
    scoped key with a 24-hour TTL. A balance change writes the member, its entries, the purchase
    and the idempotency record in one transaction. The ledger's stream feeds ``counters``.
    A member's purchases (for the export) are found through their ledger: every purchase writes
    an entry naming it in the same transaction, so ``purchases`` needs no index by member.
``counters`` (see ``counters.py``)
    Report counters per (merchant, day), campaign funnels per (campaign, run), and markers that make
    counting idempotent.
``referrals`` (hash ``friend``; GSI ``by_referrer``; see ``referrals.py``)
    Who brought whom (random customer ids), written in the friend's join transaction with the
    referrer's capped friend count; its status moves once to rewarded, refused or taken back.
``feedback`` (hash ``feedback_id``; GSIs ``by_inbox``, ``by_customer``; see ``feedback.py``)
    Reviews, survey answers and complaints; the team's inbox by owner and status; swept through
    ``by_customer`` when the member leaves.
``compensations`` (hash ``compensation_id``; GSIs ``by_status``, ``by_month``, ``by_customer``)
    Amends: granted in the member change that gives the points (with the cashier's capped day
    total on ``counters``), or pending an admin's approval.
``webhook_deliveries`` (hash ``webhook_id``, range ``delivery_id``; see ``webhooks.py``)
    The CRM hooks' delivery log: one item per (webhook, event), its body (ids, no personal data),
    status and attempts, 30 days (TTL).
``campaigns`` (hash ``campaign_id``; GSIs ``by_due``, ``by_owner``; see ``campaigns.py``)
    A campaign as one document with a version every save is conditioned on; the sparse ``by_due``
    index finds the runs that came due, ``by_owner`` a console's list newest first.
``checkins``, ``wallet``, ``inbox`` (see ``wallet.py``)
    A member's last check-in as kept before ``activity`` (read once to build that item), issued
    offers keyed by (offer, the customer's n-th issue of it) so a racing issue is refused and a
    later one never collides (TTL ``purge_at``: 400 days after the entry expired; readers other
    than the customer's own history read only the live keys ``activity`` names), and every
    message, newest first. The inbox is the outbox: its stream (NEW_IMAGE) puts each new message
    to push on the push queue, and the item keeps the push's state (claimed once, sent, no device,
    dead letter) and when the member read it.
``dead_letters`` (hash ``queue``, range ``dead_letter_id``; see ``push.py``)
    Pushes that failed after their retries, newest first for the admin, TTL 30 days; the
    member's random ``customer_id`` and the message id, never a token.
``features`` (hash ``sub``; see ``features.py``)
    Marketing's per-member item beside the member: segments, when messages reached the member
    (per kind, within the frequency window, per contact key) and the predicted next visit. No
    till's transaction reads or conditions on it, so marketing's writes never make a purchase
    retry; a message's contact is written in its member change, conditioned on the item's own
    ``revision``, and a message checks the member without updating it.

Outside DynamoDB, the members' columnar snapshot (``snapshot.py``: Parquet, queried with DuckDB)
holds per member the facts segments need, without personal data, and each saved segment's last
membership; leaving writes a deleted row and compaction drops the member's.

What each table holds about a member, and whether leaving erases it or keeps it anonymised for
the books, is written once in ``erasure.POLICIES`` (held to ``tables.declared()`` by a test).
"""
