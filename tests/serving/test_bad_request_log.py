"""A request aiohttp cannot parse is one warning line; every other server log record is left alone."""

from __future__ import annotations

import logging

import pytest
from aiohttp.http_exceptions import BadHttpMessage, BadStatusLine, LineTooLong

from healthmon.serving.http import OneLineBadRequests


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException as caught:  # noqa: BLE001 - build a record as logger.exception does
        return logging.getLogger("aiohttp.server").makeRecord(
            "aiohttp.server", logging.ERROR, __file__, 1, "Error handling request from %s", ("10.0.0.7",),
            (type(caught), caught, caught.__traceback__))


@pytest.mark.parametrize("exc", [
    LineTooLong("Status line is too long", "8190", "100000"),
    BadStatusLine("GET /\r\n" + "x" * 100_000),
    BadHttpMessage("Invalid header\nvalue"),
], ids=["line-too-long", "bad-status-line", "bad-header"])
def test_a_malformed_request_becomes_one_short_warning_line(exc):
    record = _record(exc)
    assert OneLineBadRequests().filter(record)
    text = logging.Formatter().format(record)
    assert "\n" not in text and "Traceback" not in text
    assert text.startswith(f"bad HTTP request from 10.0.0.7: {type(exc).__name__} ")
    assert len(text) < 300
    assert record.levelname == "WARNING"


def test_any_other_server_error_keeps_its_traceback():
    record = _record(RuntimeError("handler bug"))
    assert OneLineBadRequests().filter(record)
    assert record.levelname == "ERROR"
    assert "Traceback" in logging.Formatter().format(record)
