"""What every test folder shares."""

from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def _loggers_never_cached() -> Iterator[None]:
    """``chalicelib.logs.configure`` caches each logger on its first use (right for a Lambda).
    A module's logger cached by an earlier test would write past ``structlog.testing.capture_logs``
    in a later one, so whether a test sees a log line would depend on which tests ran before it."""
    structlog.configure(cache_logger_on_first_use=False)
    yield
    structlog.configure(cache_logger_on_first_use=False)
