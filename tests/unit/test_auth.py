"""Cognito tokens verified against a JWKS document served locally over HTTP (never the internet)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from chalicelib.auth import CognitoVerifier, DevTokenVerifier, authenticate
from chalicelib.domain.identity import Role
from chalicelib.errors import Forbidden, Unauthorized

ISSUER = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_TEST"
CLIENT = "app-client-123"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


POOL_KEY = new_key()
OTHER_KEY = new_key()


@pytest.fixture(scope="module")
def jwks_url():
    jwk = json.loads(RSAAlgorithm.to_jwk(POOL_KEY.public_key()))
    jwk.update({"kid": "pool-key-1", "alg": "RS256", "use": "sig"})
    document = json.dumps({"keys": [jwk]}).encode()
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json", hits
    server.shutdown()


def cognito_token(key=POOL_KEY, kid="pool-key-1", **overrides):
    now = int(time.time())
    claims = {
        "sub": "c0ffee-sub",
        "iss": ISSUER,
        "token_use": "access",
        "client_id": CLIENT,
        "iat": now,
        "exp": now + 600,
        "cognito:groups": ["cashier"],
        "custom:merchant_id": "m_kiez",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def verifier(jwks_url):
    return CognitoVerifier(ISSUER, frozenset({CLIENT}), jwks_url[0])


def test_a_pool_access_token_gives_the_identity_with_roles_and_merchant(verifier):
    identity = authenticate(f"Bearer {cognito_token()}", frozenset({Role.CASHIER}), verifier)
    assert identity.sub == "c0ffee-sub"
    assert identity.roles == frozenset({Role.CASHIER})
    assert identity.merchant_id == "m_kiez"


def test_an_id_token_is_checked_against_its_audience(verifier):
    token = cognito_token(token_use="id", client_id=None, aud=CLIENT)
    assert authenticate(f"Bearer {token}", frozenset({Role.CASHIER}), verifier).sub == "c0ffee-sub"
    other = cognito_token(token_use="id", client_id=None, aud="someone-elses-client")
    with pytest.raises(Unauthorized):
        authenticate(f"Bearer {other}", frozenset({Role.CASHIER}), verifier)


@pytest.mark.parametrize(
    "token",
    [
        cognito_token(key=OTHER_KEY),
        cognito_token(kid="unknown-kid"),
        cognito_token(iss="https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_OTHER"),
        cognito_token(client_id="another-client"),
        cognito_token(token_use="refresh"),
        cognito_token(token_use=None),
        cognito_token(exp=int(time.time()) - 3600),
        jwt.encode({"sub": "x", "exp": 2**31}, "symmetric-secret-0123456789abcdef", algorithm="HS256"),
    ],
    ids=["foreign-key", "unknown-kid", "other-issuer", "other-client", "refresh", "no-token-use", "expired", "hs256"],
)
def test_tokens_the_pool_did_not_issue_for_us_are_401(verifier, token):
    with pytest.raises(Unauthorized):
        authenticate(f"Bearer {token}", frozenset({Role.CASHIER}), verifier)


def test_the_keys_are_fetched_once_and_cached(jwks_url):
    url, hits = jwks_url
    verifier = CognitoVerifier(ISSUER, frozenset({CLIENT}), url)
    before = len(hits)
    for _ in range(5):
        authenticate(f"Bearer {cognito_token()}", frozenset({Role.CASHIER}), verifier)
    assert len(hits) - before == 1


def test_the_wrong_role_is_403_not_401(verifier):
    with pytest.raises(Forbidden):
        authenticate(f"Bearer {cognito_token()}", frozenset({Role.MARKETER}), verifier)


def test_admin_may_do_what_other_roles_may():
    secret = "dev-secret-for-this-test-0123456789"
    token = jwt.encode({"sub": "root", "exp": int(time.time()) + 60, "cognito:groups": ["admin"]}, secret, "HS256")
    identity = authenticate(f"Bearer {token}", frozenset({Role.CASHIER}), DevTokenVerifier(secret))
    assert Role.ADMIN in identity.roles


WRONG_CLAIMS = [
    {"sub": ""},
    {"sub": "   "},
    {"sub": 42},
    {"sub": ["alice"]},
    {"cognito:groups": 1},
    {"cognito:groups": "cashier"},
    {"cognito:groups": {"cashier": True}},
    {"cognito:groups": ["cashier", 7]},
    {"cognito:groups": [["cashier"]]},
    {"custom:merchant_id": 7},
    {"custom:merchant_id": ""},
    {"custom:merchant_id": ["m_kiez"]},
    {"merchant_id": 7, "custom:merchant_id": None},
    {"custom:store_id": {"id": "s_kiez_mitte"}},
    {"store_id": ""},
]


@pytest.mark.parametrize("claims", WRONG_CLAIMS, ids=[str(c) for c in WRONG_CLAIMS])
def test_a_pool_token_with_a_claim_of_the_wrong_type_is_401(verifier, claims):
    with pytest.raises(Unauthorized) as raised:
        authenticate(f"Bearer {cognito_token(**claims)}", frozenset({Role.CASHIER}), verifier)
    assert raised.value.code == "invalid_token"


@pytest.mark.parametrize("claims", WRONG_CLAIMS, ids=[str(c) for c in WRONG_CLAIMS])
def test_a_dev_token_with_a_claim_of_the_wrong_type_is_401(claims):
    secret = "dev-secret-for-this-test-0123456789"
    base = {"sub": "c0ffee-sub", "exp": int(time.time()) + 60, "cognito:groups": ["cashier"], "merchant_id": "m_kiez"}
    token = jwt.encode({**base, **claims}, secret, "HS256")
    with pytest.raises(Unauthorized):
        authenticate(f"Bearer {token}", frozenset({Role.CASHIER}), DevTokenVerifier(secret))


def test_a_pool_user_in_no_group_is_a_customer_and_never_staff(verifier):
    """Everyone who signs up in the app is in no group: a customer. Staff are an admin's doing."""
    token = f"Bearer {cognito_token(**{'cognito:groups': None, 'custom:merchant_id': None})}"
    assert authenticate(token, frozenset({Role.CUSTOMER}), verifier).roles == frozenset({Role.CUSTOMER})
    for staff in (Role.CASHIER, Role.MARKETER, Role.ADMIN):
        with pytest.raises(Forbidden):
            authenticate(token, frozenset({staff}), verifier)


def test_a_dev_token_without_groups_has_no_role():
    secret = "s" * 32
    token = jwt.encode({"sub": "nobody", "exp": int(time.time()) + 60}, secret, "HS256")
    with pytest.raises(Forbidden):
        authenticate(f"Bearer {token}", frozenset({Role.CUSTOMER}), DevTokenVerifier(secret))


def test_groups_the_program_does_not_know_are_ignored(verifier):
    token = cognito_token(**{"cognito:groups": ["cashier", "eu-central-1_TEST_Google"]})
    assert authenticate(f"Bearer {token}", frozenset({Role.CASHIER}), verifier).roles == frozenset({Role.CASHIER})
