"""Mint a local-stage token (HS256, signed with LOYALTY_DEV_JWT_SECRET).

python -m scripts.token --role customer --sub alice
python -m scripts.token --role cashier --sub demo-cashier-mitte --merchant-id m_kiez --store-id s_kiez_mitte
"""

from __future__ import annotations

import argparse
import time

import jwt

from chalicelib.config import settings
from chalicelib.domain.identity import Role

#: The demo merchant of staff tokens unless --merchant-id says otherwise.
DEMO_MERCHANT = "m_kiez"


def mint(
    sub: str,
    roles: list[str],
    merchant_id: str | None = None,
    store_id: str | None = None,
    ttl_s: int = 12 * 3600,
    secret: str | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, object] = {"sub": sub, "cognito:groups": roles, "iat": now, "exp": now + ttl_s}
    if merchant_id:
        claims["merchant_id"] = merchant_id
    if store_id:
        claims["store_id"] = store_id
    key = secret or settings().dev_jwt_secret
    if key is None:
        raise SystemExit("LOYALTY_DEV_JWT_SECRET is not set and this is not the local stage")
    return jwt.encode(claims, key, algorithm="HS256")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--sub", required=True)
    parser.add_argument("--merchant-id", default=None, help=f"staff only; default {DEMO_MERCHANT}")
    parser.add_argument("--store-id", default=None)
    parser.add_argument("--ttl", type=int, default=12 * 3600, help="seconds (default 12 h)")
    args = parser.parse_args()
    merchant = args.merchant_id or (DEMO_MERCHANT if args.role != Role.CUSTOMER else None)
    print(mint(args.sub, [args.role], merchant, args.store_id, args.ttl))


if __name__ == "__main__":
    main()
