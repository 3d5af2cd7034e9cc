"""An exception is logged as its type and frames, never its message (which quotes the input)."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from chalicelib import logs

PHONE = "+4915155566677"


def test_a_logged_exception_keeps_its_type_and_frames_but_not_its_message(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure()
    log = structlog.get_logger("test")
    try:
        raise ValueError(f"no member with phone {PHONE}")
    except ValueError:
        log.exception("unhandled_error")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert PHONE not in line
    record = json.loads(line)
    assert record["exception"]["type"] == "ValueError"
    assert any("test_logs.py" in frame for frame in record["exception"]["frames"])


def test_an_exception_passed_as_exc_info_is_rendered_the_same_way() -> None:
    error = KeyError(PHONE)
    event = logs.exception_without_message(None, "error", {"event": "x", "exc_info": error})
    assert event == {"event": "x", "exception": {"type": "KeyError", "frames": []}}


def test_a_line_without_an_exception_is_left_alone() -> None:
    assert logs.exception_without_message(None, "info", {"event": "x", "status": 200}) == {"event": "x", "status": 200}


def test_chalice_s_own_error_line_keeps_neither_the_path_nor_the_message() -> None:
    logs.configure()
    out = io.StringIO()
    chalice_log = logging.getLogger(logs.CHALICE_LOGGER)
    handler = logging.StreamHandler(out)
    chalice_log.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"lookup of {PHONE} failed")
        except RuntimeError:
            chalice_log.error("Caught exception for path %s", f"/v1/cards/{PHONE}", exc_info=True)
    finally:
        chalice_log.removeHandler(handler)
    written = out.getvalue()
    assert PHONE not in written
    assert "unhandled_error RuntimeError" in written
    assert "test_logs.py" in written
