"""The figures that matter, as CloudWatch metrics: purchases, points issued and debited,
check-ins, offers issued, pushes sent and failed.

AWS Lambda Powertools writes them in CloudWatch's Embedded Metric Format, one JSON line on stdout
per invocation that CloudWatch turns into metrics (namespace ``Loyalty``, dimension ``service``):
no API call, no agent. Each handler's invocation ends with :func:`flush` (``app.py``'s middleware).
Powertools is imported with the first figure (its import costs a cold start that counts nothing
as much as a purchase's). ``POWERTOOLS_METRICS_DISABLED=true`` (the local stack) keeps them off
stdout.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

NAMESPACE = "Loyalty"
SERVICE = "loyalty"

PURCHASES = "Purchases"
POINTS_ISSUED = "PointsIssued"
POINTS_DEBITED = "PointsDebited"
CHECKINS = "Checkins"
OFFERS_ISSUED = "OffersIssued"
PUSHES_SENT = "PushesSent"
PUSHES_FAILED = "PushesFailed"


@lru_cache(maxsize=1)
def _metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, value: float = 1) -> None:
    """Add ``value`` to the figure ``name`` of this invocation (nothing for zero)."""
    if not value:
        return
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if not is_metrics_disabled():  # disabled, Powertools would keep them: a long-lived process must not
        _metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush() -> None:
    """This invocation's figures out, as one EMF line (none if it counted nothing)."""
    if not _metrics.cache_info().currsize:
        return  # nothing was ever counted in this process: Powertools need not be imported
    metrics = _metrics()
    if metrics.metric_set:
        metrics.flush_metrics()
