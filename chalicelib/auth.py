"""Token verification and role checks.

AWS stage: Cognito user-pool tokens (RS256), verified against the pool's JWKS, whose keys are
cached per warm Lambda. Local stage: HS256 tokens signed with ``LOYALTY_DEV_JWT_SECRET``, so any
JWT library can mint one (``python -m scripts.token``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Protocol

import jwt

from chalicelib.config import Settings, settings
from chalicelib.domain.identity import Identity, Role
from chalicelib.errors import Forbidden, Unauthorized, Unavailable

LEEWAY_S = 30


class TokenVerifier(Protocol):
    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims; raises :class:`jwt.InvalidTokenError` when the token is not good."""
        ...


class DevTokenVerifier:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def claims(self, token: str) -> dict[str, Any]:
        return jwt.decode(
            token,
            self._secret,
            algorithms=["HS256"],
            options={"require": ["sub", "exp"]},
            leeway=LEEWAY_S,
        )


class CognitoVerifier:
    """Access and ID tokens of one user pool, for the app clients we know."""

    def __init__(self, issuer: str, client_ids: frozenset[str], jwks_url: str | None = None) -> None:
        self._issuer = issuer.rstrip("/")
        self._client_ids = client_ids
        self._jwks = jwt.PyJWKClient(
            jwks_url or f"{self._issuer}/.well-known/jwks.json", cache_keys=True, lifespan=3600, timeout=5
        )

    def claims(self, token: str) -> dict[str, Any]:
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise Unavailable("the identity provider's keys could not be fetched", code="auth_unavailable") from exc
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=self._issuer,
            options={"require": ["sub", "exp", "iat", "token_use"], "verify_aud": False},
            leeway=LEEWAY_S,
        )
        use = claims.get("token_use")
        if use == "access":
            client = claims.get("client_id")
        elif use == "id":
            client = claims.get("aud")
        else:
            raise jwt.InvalidTokenError("token_use must be access or id")
        if client not in self._client_ids:
            raise jwt.InvalidAudienceError("token was issued to another app client")
        if "cognito:groups" not in claims:
            # Everyone who signs up in the app is a customer; staff are put in their groups by an
            # admin (README, "Deploy"). Cognito leaves the claim out for a user in no group.
            claims["cognito:groups"] = [Role.CUSTOMER.value]
        return claims


def build_verifier(config: Settings) -> TokenVerifier:
    if config.is_local:
        assert config.dev_jwt_secret is not None
        return DevTokenVerifier(config.dev_jwt_secret)
    assert config.cognito_issuer is not None
    return CognitoVerifier(config.cognito_issuer, config.cognito_client_ids, config.cognito_jwks_url)


@lru_cache(maxsize=1)
def verifier() -> TokenVerifier:
    return build_verifier(settings())


def identity_from_claims(claims: Mapping[str, Any]) -> Identity:
    """The caller's identity; a claim of the wrong type is a token we cannot trust (401).

    A signature only says who issued the token: a pool misconfigured to map an attribute of the
    wrong type, or a claim we read differently from the issuer, must not become a role, a
    merchant or an empty user that matches nobody's data by accident.
    """
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise _bad_claim("sub")
    groups = claims.get("cognito:groups")
    if groups is None:
        groups = []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise _bad_claim("cognito:groups")
    known = {r.value for r in Role}
    return Identity(
        sub=sub,
        roles=frozenset(Role(g) for g in groups if g in known),
        merchant_id=_optional_text(claims, "merchant_id", "custom:merchant_id"),
        store_id=_optional_text(claims, "store_id", "custom:store_id"),
    )


def _optional_text(claims: Mapping[str, Any], *names: str) -> str | None:
    """The first of ``names`` present; each present one must be a non-empty string."""
    found = None
    for name in names:
        value = claims.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise _bad_claim(name)
        found = found or value
    return found


def _bad_claim(name: str) -> Unauthorized:
    return Unauthorized(f"the token's {name} claim is not valid", code="invalid_token")


def authenticate(authorization: str | None, allowed: frozenset[Role], tokens: TokenVerifier | None = None) -> Identity:
    """The caller's identity, if the bearer token is good and carries one of ``allowed``'s roles."""
    if not authorization:
        raise Unauthorized("an Authorization: Bearer token is required", code="missing_token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'", code="invalid_token")
    try:
        claims = (tokens or verifier()).claims(token.strip())
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the token has expired", code="token_expired") from exc
    except jwt.PyJWTError as exc:  # bad signature, claims, format, or a key the pool never had
        raise Unauthorized("the token is not valid", code="invalid_token") from exc
    identity = identity_from_claims(claims)
    if not identity.has_any(allowed):
        raise Forbidden("your role may not do this", code="role_forbidden")
    return identity
