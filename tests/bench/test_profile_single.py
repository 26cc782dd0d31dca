"""The single-event profile runs one worker over dense single-event messages under pyinstrument."""

from __future__ import annotations

import pytest

from healthmon.bench.profile_single import profile_single

pytestmark = pytest.mark.integration


def test_the_worker_consumes_every_message_and_leaves_its_profile(broker_url, tmp_path):
    run, messages = profile_single(2_000, tmp_path, broker_url)
    assert messages > 2_000 and run.outcomes["ok"] == messages  # the events plus one profile per account
    profile = (tmp_path / "single-0.profile.txt").read_text()
    assert "Processor.process" in profile and "Fetcher" in profile
