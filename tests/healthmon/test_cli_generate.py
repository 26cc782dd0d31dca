"""`healthmon generate --until`: anchored event times, and a clear error for a date in the future."""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner

from healthmon.cli import cli
from healthmon.cli.traffic import traffic_start_ms

DAY_MS = 86_400_000


@pytest.mark.parametrize(("until", "days", "start"), [
    (datetime(2026, 11, 1), 10, "2026-10-22T00:00:00"),
    (datetime(2026, 11, 1, 12, 30), 1, "2026-10-31T12:30:00"),
])
def test_until_anchors_the_end_of_the_traffic(until, days, start):
    start_ms = traffic_start_ms(days, until, max_future_skew_seconds=300)
    assert start_ms == int(datetime.fromisoformat(start + "+00:00").timestamp() * 1000)
    assert traffic_start_ms(days, until, 300) == start_ms  # the same every time: byte-identical events


def test_until_in_the_future_is_refused_before_anything_is_sent():
    result = CliRunner().invoke(cli, ["generate", "--until", "2999-01-01"], env={"KAFKA_BROKER_URL": ""})
    assert result.exit_code == 2
    assert "--until" in result.output and "future" in result.output
