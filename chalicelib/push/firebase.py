"""The Firebase sender: FCM HTTP v1 through the Firebase Admin SDK (firebase-admin 7.x).

``send_each`` in batches of at most 500 (``send_all``/``send_multicast`` are gone in 7.x), each
message with its Android, APNs and web options; FCM's answer per message becomes a
``push.Outcome``. The SDK is imported on first use: it costs about 220 ms, and only the push
consumer needs it.

Where the requests go is ``LOYALTY_FCM_URL``: Google's on AWS, the local FCM v1 endpoint
(``scripts/fcm_local.py``) on the local stack. The SDK has no setting for it, so :func:`_point_at`
sets the messaging service's private ``_fcm_url``, in this one place, covered by a test. Locally the
app runs with anonymous credentials (no Google account can be reached); on AWS with a service
account file.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import threading
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog

from chalicelib.config import Settings, settings
from chalicelib.push import MAX_BATCH, DeadToken, Delivered, Outcome, Push, Rejected, Retry
from chalicelib.push.payload import fits

log = structlog.get_logger("loyalty.push")

APP_NAME = "loyalty"
#: How long a notification waits on FCM for an offline device: a day-old greeting is still welcome,
#: a week-old one is not.
TIME_TO_LIVE_S = 24 * 60 * 60

_lock = threading.Lock()


class FirebaseSender:
    def __init__(self, config: Settings | None = None) -> None:
        self._settings = config or settings()
        self._app: Any = None

    def send(self, pushes: Sequence[Push]) -> list[Outcome]:
        if not pushes:
            raise ValueError("an empty batch: FCM is never called for nothing")
        if len(pushes) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} pushes per batch, got {len(pushes)}")
        from firebase_admin import messaging

        outcomes: list[Outcome | None] = [None] * len(pushes)
        sendable = []
        for i, push in enumerate(pushes):
            if fits(push):
                sendable.append(i)
            else:
                outcomes[i] = Rejected(push.token, "payload_too_large")
        if sendable:
            answer = messaging.send_each([_message(pushes[i]) for i in sendable], app=self._firebase())
            for i, response in zip(sendable, answer.responses, strict=True):
                outcomes[i] = _outcome(pushes[i].token, response)
        done = [o for o in outcomes if o is not None]
        log.info(
            "push_batch_sent",
            pushes=len(pushes),
            delivered=sum(isinstance(o, Delivered) for o in done),
            dead=sum(isinstance(o, DeadToken) for o in done),
            retry=sum(isinstance(o, Retry) for o in done),
            rejected=sum(isinstance(o, Rejected) for o in done),
        )
        return done

    def _firebase(self) -> Any:
        if self._app is None:
            with _lock:
                if self._app is None:
                    self._app = _initialise(self._settings)
        return self._app


def _initialise(config: Settings) -> Any:
    import firebase_admin

    # One app per configuration: a process (a test run) that talks to two endpoints or projects
    # must not send one's messages through the other's.
    identity = "|".join(
        str(part)
        for part in (
            config.fcm_project_id,
            config.fcm_url,
            config.fcm_credentials_file,
            config.fcm_credentials_secret_arn,
            config.fcm_timeout_s,
        )
    )
    name = f"{APP_NAME}-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"
    try:
        app = firebase_admin.get_app(name)
    except ValueError:
        app = firebase_admin.initialize_app(
            _credential(config),
            {"projectId": config.fcm_project_id, "httpTimeout": config.fcm_timeout_s},
            name=name,
        )
    _point_at(app, config.fcm_url)
    return app


def _credential(config: Settings) -> Any:
    from firebase_admin import credentials
    from google.auth.credentials import AnonymousCredentials

    if config.fcm_credentials_secret_arn:  # AWS: read once, when this warm Lambda's app is made
        from chalicelib.config import read_secret_string

        return credentials.Certificate(json.loads(read_secret_string(config.fcm_credentials_secret_arn)))
    if config.fcm_credentials_file:
        return credentials.Certificate(config.fcm_credentials_file)
    # Offline, for the local FCM endpoint: requests carry no token (the SDK takes google-auth
    # credentials as they are).
    return AnonymousCredentials()  # type: ignore[no-untyped-call]


def fcm_endpoint(base_url: str, project_id: str) -> str:
    return f"{base_url.rstrip('/')}/v1/projects/{project_id}/messages:send"


def _point_at(app: Any, base_url: str) -> None:
    """Send to ``base_url`` instead of Google's FCM, with a quick retry of 500/503 there too (the
    SDK mounts its retrying adapter for Google's host only), but without waiting out a
    ``Retry-After`` inside the call: urllib3 would sleep that long, four times, in a Lambda. A 429
    comes back as ``Retry`` with the wait, and the delivery pipeline decides (back off, or put the
    message off on its queue)."""
    import requests.adapters
    from firebase_admin import _http_client, messaging

    service = messaging._get_messaging_service(app)
    service._fcm_url = fcm_endpoint(base_url, app.project_id)
    # One quick retry of a 500/503 here; the delivery pipeline's own backoff does the rest,
    # within its budget (the SDK's four retries with doubling waits would hold a consumer for
    # seconds per failing message, outside any budget).
    retry = _http_client.DEFAULT_RETRY_CONFIG.new(respect_retry_after_header=False, status=1, backoff_factor=0.2)
    adapter = requests.adapters.HTTPAdapter(pool_connections=100, pool_maxsize=100, max_retries=retry)
    service._client.session.mount(base_url.rstrip("/"), adapter)


def _message(push: Push) -> Any:
    from firebase_admin import messaging

    data = dict(push.data)
    notification = messaging.Notification(title=push.title, body=push.body)
    android = messaging.AndroidConfig(
        priority="high",
        collapse_key=push.collapse_key,
        ttl=TIME_TO_LIVE_S,
        notification=messaging.AndroidNotification(tag=push.collapse_key),
    )
    apns_headers = {"apns-priority": "10", "apns-push-type": "alert"}
    if push.collapse_key:
        apns_headers["apns-collapse-id"] = push.collapse_key[:64]  # APNs' limit
    apns = messaging.APNSConfig(
        headers=apns_headers,
        payload=messaging.APNSPayload(
            aps=messaging.Aps(alert=messaging.ApsAlert(title=push.title, body=push.body), sound="default")
        ),
    )
    webpush = messaging.WebpushConfig(headers={"TTL": str(TIME_TO_LIVE_S), "Urgency": "high"})
    with warnings.catch_warnings():
        # 7.5+ marks ``token`` deprecated in favour of Firebase installation ids (``fid``); the apps
        # register what FirebaseMessaging.getToken() gives them, a registration token, which the
        # v1 API takes as ``token``.
        warnings.simplefilter("ignore", DeprecationWarning)
        return _build(messaging, push, notification, data, android, apns, webpush)


def _build(messaging: Any, push: Push, *parts: Any) -> Any:
    notification, data, android, apns, webpush = parts
    return messaging.Message(
        token=push.token,
        notification=notification,
        data=data or None,
        android=android if push.platform == "android" else None,
        apns=apns if push.platform == "ios" else None,
        webpush=webpush if push.platform == "web" else None,
    )


#: FCM error codes that mean the token will never work again for this app.
_DEAD = ("UNREGISTERED", "SENDER_ID_MISMATCH")


def _outcome(token: str, response: Any) -> Outcome:
    from firebase_admin import exceptions, messaging

    if response.success:
        return Delivered(token, str(response.message_id))
    error = response.exception
    if isinstance(error, messaging.UnregisteredError):
        return DeadToken(token, "UNREGISTERED")
    if isinstance(error, messaging.SenderIdMismatchError):
        return DeadToken(token, "SENDER_ID_MISMATCH")
    if isinstance(error, exceptions.InvalidArgumentError):
        if _about_the_token(error):
            return DeadToken(token, "INVALID_ARGUMENT")
        return Rejected(token, "INVALID_ARGUMENT")
    if isinstance(error, messaging.QuotaExceededError):
        return Retry(token, "QUOTA_EXCEEDED", _retry_after(error))
    if isinstance(
        error,
        exceptions.UnavailableError
        | exceptions.InternalError
        | exceptions.DeadlineExceededError
        | exceptions.UnknownError,
    ):
        return Retry(token, str(getattr(error, "code", "UNAVAILABLE")), _retry_after(error))
    return Rejected(token, str(getattr(error, "code", type(error).__name__)))


def _about_the_token(error: Any) -> bool:
    """Whether an INVALID_ARGUMENT names the registration token (a malformed or foreign token,
    which will never work) rather than the message (which no retry fixes, but the token may)."""
    response = getattr(error, "http_response", None)
    try:
        details = response.json()["error"].get("details", []) if response is not None else []
    except (ValueError, KeyError, AttributeError):
        details = []
    for detail in details:
        for violation in detail.get("fieldViolations", []) if isinstance(detail, dict) else []:
            if str(violation.get("field", "")).endswith("token"):
                return True
    return "registration token" in str(error).lower()


def _retry_after(error: Any) -> float | None:
    """FCM's ``Retry-After``, in seconds or as an HTTP date."""
    response = getattr(error, "http_response", None)
    raw = response.headers.get("Retry-After") if response is not None else None
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
