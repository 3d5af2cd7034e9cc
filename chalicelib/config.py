"""Settings from the environment, read once into a frozen dataclass.

No other module reads ``os.environ``: they take a :class:`Settings` (usually through
:func:`settings`), so tests and scripts can build their own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

LOCAL_STAGE = "local"

#: The local stage's signing secret for dev tokens. It is written in the README on purpose:
#: it protects nothing but a developer's laptop, and the AWS stage refuses to start with it.
LOCAL_DEV_JWT_SECRET = "local-dev-only-secret-never-use-in-aws"  # noqa: S105 - published on purpose
LOCAL_CARD_SECRET = "local-card-only-secret-never-use-in-aws"  # noqa: S105 - published on purpose
LOCAL_CURSOR_SECRET = "local-cursor-only-secret-never-use-in-aws"  # noqa: S105 - published on purpose
#: Where the local stack's FCM v1 endpoint listens (``scripts/fcm_local.py``, started by ``make run``).
LOCAL_FCM_URL = "http://127.0.0.1:9099"


class ConfigError(RuntimeError):
    """The environment does not describe a runnable stage."""


@dataclass(frozen=True)
class Settings:
    stage: str
    table_prefix: str
    aws_region: str
    dynamodb_endpoint: str | None
    dev_jwt_secret: str | None
    cognito_issuer: str | None
    cognito_client_ids: frozenset[str]
    cognito_jwks_url: str | None
    card_secret: str
    #: Signs the list cursors the API gives out (each list and caller under its own derived key).
    cursor_secret: str
    qr_ttl_s: int
    max_body_bytes: int
    #: How long a warm Lambda trusts its offers' issued counts (the catalog itself is validated by
    #: its version on every request; the counts move with every issue and are not part of it).
    program_cache_ttl_s: int
    dynamodb_connect_timeout_s: int
    dynamodb_read_timeout_s: int
    #: The ledger table's stream (AWS): its records keep the report counters.
    ledger_stream_arn: str | None
    #: The inbox table's stream (AWS): each new message to push goes on the push queue from there.
    inbox_stream_arn: str | None = None
    #: The members table's stream (AWS): it keeps the members' columnar snapshot current.
    members_stream_arn: str | None = None
    #: The purchases table's stream (AWS): every purchase and refund into the sales counters.
    purchases_stream_arn: str | None = None
    #: Base URL of the FCM HTTP v1 API (``{fcm_url}/v1/projects/{project}/messages:send``).
    fcm_url: str = "https://fcm.googleapis.com"
    fcm_project_id: str = "loyalty-local"
    #: A service account JSON file for FCM (AWS); None: anonymous credentials (the local endpoint).
    fcm_credentials_file: str | None = None
    fcm_timeout_s: float = 10.0
    #: SQS endpoint (the local stack's moto server); None: AWS's for the region.
    sqs_endpoint: str | None = None
    #: Folder of the members' columnar snapshot (``store/snapshot.py``); ``make run`` puts it in DATA_DIR.
    snapshot_dir: str = ".data/snapshot"
    #: The app's join page a member's share link opens (their referral code is added to it).
    share_url: str = "loyalty://join"

    @property
    def is_local(self) -> bool:
        return self.stage == LOCAL_STAGE

    def table_name(self, short: str) -> str:
        return f"{self.table_prefix}{short}"


def from_environ(env: Mapping[str, str]) -> Settings:
    stage = env.get("LOYALTY_STAGE", LOCAL_STAGE)
    is_local = stage == LOCAL_STAGE
    dev_secret = env.get("LOYALTY_DEV_JWT_SECRET") or (LOCAL_DEV_JWT_SECRET if is_local else None)
    card_secret = env.get("LOYALTY_CARD_SECRET") or (LOCAL_CARD_SECRET if is_local else "")
    cursor_secret = env.get("LOYALTY_CURSOR_SECRET") or (LOCAL_CURSOR_SECRET if is_local else "")
    issuer = env.get("LOYALTY_COGNITO_ISSUER") or None
    if not is_local:
        if not card_secret or card_secret == LOCAL_CARD_SECRET:
            raise ConfigError("LOYALTY_CARD_SECRET must be set to a real secret outside the local stage")
        if not cursor_secret or cursor_secret == LOCAL_CURSOR_SECRET:
            raise ConfigError("LOYALTY_CURSOR_SECRET must be set to a real secret outside the local stage")
        if dev_secret is not None:
            raise ConfigError("LOYALTY_DEV_JWT_SECRET is for the local stage only")
        if issuer is None:
            raise ConfigError("LOYALTY_COGNITO_ISSUER must be set outside the local stage")
    return Settings(
        stage=stage,
        table_prefix=env.get("LOYALTY_TABLE_PREFIX", f"loyalty-{stage}-"),
        aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-central-1",
        dynamodb_endpoint=env.get("LOYALTY_DYNAMODB_ENDPOINT") or None,
        dev_jwt_secret=dev_secret,
        cognito_issuer=issuer,
        cognito_client_ids=frozenset(
            c.strip() for c in env.get("LOYALTY_COGNITO_CLIENT_IDS", "").split(",") if c.strip()
        ),
        cognito_jwks_url=env.get("LOYALTY_COGNITO_JWKS_URL") or None,
        card_secret=card_secret,
        cursor_secret=cursor_secret,
        qr_ttl_s=int(env.get("LOYALTY_QR_TTL_S", "300")),
        max_body_bytes=int(env.get("LOYALTY_MAX_BODY_BYTES", "16384")),
        program_cache_ttl_s=int(env.get("LOYALTY_PROGRAM_CACHE_TTL_S", "30")),
        dynamodb_connect_timeout_s=int(env.get("LOYALTY_DYNAMODB_CONNECT_TIMEOUT_S", "2")),
        dynamodb_read_timeout_s=int(env.get("LOYALTY_DYNAMODB_READ_TIMEOUT_S", "5")),
        ledger_stream_arn=env.get("LOYALTY_LEDGER_STREAM_ARN") or None,
        inbox_stream_arn=env.get("LOYALTY_INBOX_STREAM_ARN") or None,
        members_stream_arn=env.get("LOYALTY_MEMBERS_STREAM_ARN") or None,
        purchases_stream_arn=env.get("LOYALTY_PURCHASES_STREAM_ARN") or None,
        fcm_url=(env.get("LOYALTY_FCM_URL") or (LOCAL_FCM_URL if is_local else "https://fcm.googleapis.com")).rstrip(
            "/"
        ),
        fcm_project_id=env.get("LOYALTY_FCM_PROJECT") or "loyalty-local",
        fcm_credentials_file=env.get("LOYALTY_FCM_CREDENTIALS") or None,
        fcm_timeout_s=float(env.get("LOYALTY_FCM_TIMEOUT_S", "10")),
        sqs_endpoint=env.get("LOYALTY_SQS_ENDPOINT") or None,
        share_url=env.get("LOYALTY_SHARE_URL") or "loyalty://join",
        snapshot_dir=env.get("LOYALTY_SNAPSHOT_DIR") or (".data/snapshot" if is_local else "/tmp/loyalty-snapshot"),  # noqa: S108
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return from_environ(os.environ)
