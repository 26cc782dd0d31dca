"""The progress topic's entries: one partition's progress per key, read back as written."""

from __future__ import annotations

import pytest

from healthmon.pipeline import Progress
from streams.pace_exchange import decode_entry, encode_entry


@pytest.mark.parametrize("progress", [Progress(1_700_000_000_000, False), Progress(-1, True)])
def test_an_entry_reads_back_as_written(progress):
    key, value = encode_entry("crm.public.accounts", 11, progress)
    assert key == b"crm.public.accounts:11"
    assert decode_entry(key, value) == (("crm.public.accounts", 11), progress)


@pytest.mark.parametrize(("key", "value"), [(None, None), (b"t:1", b"not json"), (b"t", b'{"event_time": 1}'),
                                            (b"t:x", b'{"event_time": 1, "caught_up": true}')])
def test_anything_else_is_skipped(key, value):
    assert decode_entry(key, value) is None
