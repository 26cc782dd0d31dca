"""A profile read on another partition (a CRM row keyed by its own key) is applied at once when this worker owns
the account's partition, as a native profile goes before the events queued with it; else it moves there."""

from __future__ import annotations

import orjson
import pytest

from healthmon.ingest import partition_for
from healthmon.ingest.inputs import parse_inputs
from healthmon.ingest.repartition import decode_repartitioned
from healthmon.pipeline.processor import Processor
from tests.ingest.formats.examples.debezium import ENVELOPE_CREATE, ENVELOPE_DELETE
from tests.pipeline.mapped import mapped_processor
from tests.pipeline.test_processor_semantics import CRM_FIELDS, group

PARTITIONS = 4
NOW_MS = 1_788_220_800_000
INPUTS = parse_inputs({"inputs": [
    {"topic": "groups", "kind": "accounts", "format": "segment"},
    {"topic": "crm", "kind": "accounts", "format": "debezium", "fields": CRM_FIELDS,
     "values": {"tier": {"enterprise": "strategic", "growth": "key", "starter": "standard"}}},
]}, "inputs.yaml")
ACCOUNT = str(ENVELOPE_CREATE["payload"]["after"]["id"])
HOME = partition_for(ACCOUNT, PARTITIONS)
ELSEWHERE = (HOME + 1) % PARTITIONS


def _processor(owned: set[int]) -> Processor:
    processor = mapped_processor(INPUTS, PARTITIONS, lambda: NOW_MS)
    processor.owns = lambda partition: partition in owned
    return processor


def _moved(processor: Processor) -> list[tuple[bytes, str, int | None]]:
    """Return what the processor moved: (key, kind, partition) of each entry (one message each, unpacked)."""
    out = processor.topics.repartition
    return [(key, decode_repartitioned(body)[0], to) for (key, body), to in zip(out.sent, out.partitions)]


@pytest.mark.parametrize("owned", [{ELSEWHERE, HOME}, {ELSEWHERE}], ids=["home-owned", "home-elsewhere"])
async def test_a_crm_row_read_on_another_partition(owned: set[int]) -> None:
    processor = _processor(owned)
    await processor.on_message("crm", ELSEWHERE, 0, b"k", orjson.dumps(ENVELOPE_CREATE))
    state = processor.state_of(ACCOUNT)
    if HOME in owned:  # applied before anything the account's partition releases after it
        assert (state.name, state.tier, state.seats) == ("Initech", "strategic", 329)
        assert _moved(processor) == []
    else:
        assert state is None and _moved(processor) == [(ACCOUNT.encode(), "account", HOME)]


async def test_a_removal_after_a_row_applied_at_once_is_applied_at_once_too() -> None:
    # Moved, the removal would reach the account after the row it follows: keep the source's order.
    processor = _processor({ELSEWHERE, HOME})
    await processor.on_message("crm", ELSEWHERE, 0, b"k", orjson.dumps(ENVELOPE_CREATE))
    await processor.on_message("crm", ELSEWHERE, 1, b"k", orjson.dumps(ENVELOPE_DELETE))
    assert processor.state_of(ACCOUNT) is None and _moved(processor) == []


async def test_segment_traits_read_on_another_partition_merge_at_once_when_the_home_is_owned() -> None:
    processor = _processor({0, 1, 2, 3})
    home = partition_for("acc-9", PARTITIONS)
    rest = {"name": "Acme", "tier": "key", "seats": 40, "arr": 1200.5, "csm": "ann@example.com",
            "contract_start": "2025-01-01", "renewal_date": "2027-01-01"}
    await processor.on_message("groups", (home + 1) % PARTITIONS, 0, None, group(rest, "g1"))
    state = processor.state_of("acc-9")
    assert (state.tier, state.seats) == ("key", 40) and _moved(processor) == []
