"""The Chalice app: wiring only. The whole HTTP surface is the blueprints below.

Every function of the app imports this module on a cold start, the API's first: what only the jobs,
the consumers or the stream triggers need is imported inside their handlers (``make package``
reports each package's cold import).
"""

from datetime import datetime
from typing import Any

from chalice.app import Chalice, CloudWatchEvent, Cron, DynamoDBEvent, Rate, SQSEvent

from chalicelib import logs, queues, schedule
from chalicelib.api.admin import admin
from chalicelib.api.http import answer_undeclared_methods
from chalicelib.api.marketing import marketing
from chalicelib.api.me import me
from chalicelib.api.middleware import access_log, invocation
from chalicelib.api.ops import ops
from chalicelib.api.places import places_bp
from chalicelib.api.pos import pos
from chalicelib.api.reports import reports_bp
from chalicelib.api.system import system
from chalicelib.config import settings
from chalicelib.ports import now

logs.configure()

app = Chalice(app_name="loyalty")
app.register_middleware(access_log, "http")
app.register_middleware(invocation, "all")

app.register_blueprint(system, url_prefix="/v1")
app.register_blueprint(me, url_prefix="/v1/me")
app.register_blueprint(pos, url_prefix="/v1")
app.register_blueprint(places_bp, url_prefix="/v1")
app.register_blueprint(admin, url_prefix="/v1")
app.register_blueprint(marketing, url_prefix="/v1")
app.register_blueprint(ops, url_prefix="/v1")
app.register_blueprint(reports_bp, url_prefix="/v1")
answer_undeclared_methods(app)  # after every route: 405 instead of API Gateway's 403


def run_job(name: str, at: datetime | None = None) -> None:
    from chalicelib import jobs

    jobs.run(name, at or now())


_EXPIRY_HOUR, _EXPIRY_MINUTE = schedule.DAILY_AT_UTC["expire_points"]


@app.schedule(Cron(_EXPIRY_MINUTE, _EXPIRY_HOUR, "*", "*", "?", "*"))
def expire_points_daily(event: object) -> None:
    run_job("expire_points")


# The stream triggers' work, on a batch of DynamoDB stream records (the event's "Records"): the
# handlers below on AWS, the local stack's stream followers (scripts/serve.py) on the same records.
StreamRecords = list[dict[str, Any]]


def ledger_records(records: StreamRecords) -> None:
    """New ledger entries: the report counters, the members' rhythm (their visits), the purchases
    campaigns are credited with, and the referrals a friend's purchase rewards."""
    from chalicelib.services import attribution, prediction, referrals, reports

    entries = [(r["eventName"], r["dynamodb"].get("NewImage")) for r in records]
    reports.on_ledger_records(entries, clock=now)
    prediction.on_ledger_records(entries, clock=now)
    attribution.on_ledger_records(entries, clock=now)
    referrals.on_ledger_records(entries, clock=now)


def member_records(records: StreamRecords) -> None:
    """Every change of a member, into the members' columnar snapshot (one delta per batch), and the
    CRM's member events."""
    from chalicelib.services import member_snapshot, webhooks

    member_snapshot.on_member_records(records, at=now())
    webhooks.on_member_records(records)


def purchase_records(records: StreamRecords) -> None:
    """Every purchase and refund into the day's sales counters (the reports), the purchase history
    the predictor is fitted on, and the CRM's purchase events."""
    from chalicelib.services import member_snapshot, reports, webhooks

    reports.on_purchase_records(records, clock=now)
    member_snapshot.on_purchase_records(records)
    webhooks.on_purchase_records(records)


def inbox_records(records: StreamRecords) -> None:
    """The inbox is the outbox: each new message to push goes on the push queue."""
    from chalicelib.services import push

    push.on_inbox_records((r["eventName"], r["dynamodb"].get("NewImage")) for r in records)


LEDGER_STREAM_ARN = settings().ledger_stream_arn
if LEDGER_STREAM_ARN:  # on AWS; the local stack follows the stream itself (scripts/serve.py)

    @app.on_dynamodb_record(stream_arn=LEDGER_STREAM_ARN, batch_size=100)
    def count_ledger_entries(event: DynamoDBEvent) -> None:
        ledger_records(event.to_dict()["Records"])


_REVIEW_HOUR, _REVIEW_MINUTE = schedule.DAILY_AT_UTC["tier_review"]


@app.schedule(Cron(_REVIEW_MINUTE, _REVIEW_HOUR, "*", "*", "?", "*"))
def tier_review_daily(event: object) -> None:
    run_job("tier_review")


@app.schedule(Cron(min(schedule.HOURLY_AT_MINUTE.values(), default=5), "*", "*", "*", "?", "*"))
def moments_hourly(event: object) -> None:
    """Each hour, in their minutes' order: the snapshot folded, the segments' memberships, then every
    moment, each selecting the members whose moment has come in their time zone and fanning out on
    the contacts queue (cheap: the deciding happens in ``contact_members``)."""
    for name in sorted(schedule.HOURLY_AT_MINUTE, key=schedule.HOURLY_AT_MINUTE.__getitem__):
        run_job(name)


WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_FIT_DAY, _FIT_HOUR, _FIT_MINUTE = schedule.WEEKLY_AT_UTC["fit_predictor"]


@app.schedule(Cron(_FIT_MINUTE, _FIT_HOUR, "?", "*", WEEKDAYS[_FIT_DAY], "*"))
def fit_predictor_weekly(event: CloudWatchEvent) -> None:
    """The anticipation model fitted on the week's purchase history; the predictions fan out on
    the contacts queue (on AWS in a package of its own, the only one with scipy: scripts/package.py).
    It fits as of the event's time: the schedule's, or the moment an admin's run from the API gave."""
    run_job("fit_predictor", datetime.fromisoformat(event.time))


@app.schedule(Rate(schedule.EVERY_MINUTES["campaigns"], unit=Rate.MINUTES))
def campaigns_due(event: object) -> None:
    """Campaign runs that came due: each claimed once and handed to the contacts queue."""
    run_job("campaigns")


@app.on_sqs_message(queue=queues.queue_name(queues.CONTACTS), batch_size=10)
def contact_members(event: SQSEvent) -> dict[str, Any]:
    """Members a moment or a campaign selected, each decided through the issuing service; and a
    campaign run's start (its audience read and fanned out here, not in a request)."""
    from chalicelib import jobs  # the campaigns' and predictions' handlers join the moments' here

    return queues.handle_batch(event.to_dict(), jobs.fanout.on_contacts)


MEMBERS_STREAM_ARN = settings().members_stream_arn
if MEMBERS_STREAM_ARN:  # on AWS; the local stack follows the stream itself (scripts/serve.py)

    @app.on_dynamodb_record(stream_arn=MEMBERS_STREAM_ARN, batch_size=1000)
    def snapshot_members(event: DynamoDBEvent) -> None:
        member_records(event.to_dict()["Records"])


PURCHASES_STREAM_ARN = settings().purchases_stream_arn
if PURCHASES_STREAM_ARN:  # on AWS; the local stack follows the stream itself (scripts/serve.py)

    @app.on_dynamodb_record(stream_arn=PURCHASES_STREAM_ARN, batch_size=100)
    def count_sales(event: DynamoDBEvent) -> None:
        purchase_records(event.to_dict()["Records"])


INBOX_STREAM_ARN = settings().inbox_stream_arn
if INBOX_STREAM_ARN:  # on AWS; the local stack follows the stream itself (scripts/serve.py)

    @app.on_dynamodb_record(stream_arn=INBOX_STREAM_ARN, batch_size=100)
    def queue_pushes(event: DynamoDBEvent) -> None:
        inbox_records(event.to_dict()["Records"])


@app.on_sqs_message(queue=queues.queue_name(queues.PUSH), batch_size=10)
def push_messages(event: SQSEvent) -> dict[str, Any]:
    """New inbox messages to the members' phones through FCM (partial-batch answer)."""
    from chalicelib.services import push

    return push.deliver(event.to_dict(), clock=now)


@app.on_sqs_message(queue=queues.queue_name(queues.WEBHOOKS), batch_size=10)
def deliver_webhooks(event: SQSEvent) -> dict[str, Any]:
    """The CRM's webhooks: each delivery's next attempt (partial-batch answer; a failed attempt
    comes back after its backoff)."""
    from chalicelib.services import webhooks

    return queues.handle_batch(event.to_dict(), webhooks.on_delivery)
