"""DynamoDB access: PynamoDB models, key design and the transactions that use them.

Models never leave this package: repositories return domain objects. The key design, per table:

``members`` (hash ``sub``)
    The member item, keyed by the user's token subject so ``GET /v1/me`` is one GetItem.
    Holds the profile, the balance and the counters the rules need.
``claims`` (hash ``claim``)
    One item per unique value, written in the join transaction with ``attribute_not_exists``
    so uniqueness holds without a read-then-write race: ``phone#<E.164>``, ``card#<number>``,
    ``referral#<code>``, ``customer#<customer_id>``. Each points at the member's ``sub`` and
    ``customer_id``; the till's lookups (card number, QR, phone) are claim → member, two
    GetItems. When a member leaves, the phone claim is deleted (the number is free again) and the
    others are kept as ``retired`` tombstones, so a card number or code is never issued twice.
``devices`` (hash ``customer_id``, range ``token``; GSI ``by_token``)
    Push tokens of a member; the index finds a token registered by someone else, so a phone
    that changes hands moves its token instead of notifying two people.
``catalog`` (hash ``pk`` = kind, range ``sk`` = id)
    The program's few, slow-changing things: ``program/current``, ``merchant/<id>``,
    ``store/<id>``, ``staff/<sub>``, ``beacon/<advertised identity>``. Listing a kind is one
    Query on its partition, never a scan, and results are cached per warm Lambda.
"""
