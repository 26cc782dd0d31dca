"""The global tables' reads: the link table read without Faust's per-read sensors, seeing every write."""

from __future__ import annotations

from typing import Any

from faust.sensors import Sensor

from healthmon.config import Settings
from streams.app import create_app
from streams.tables import SensorFreeReads, global_tables

KEY = b"user\x1fu-1"


class _Reads(Sensor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def on_table_get(self, table: Any, key: Any) -> None:
        self.count += 1


def test_link_reads_see_what_the_store_holds_without_the_read_sensors():
    settings = Settings()
    app = create_app(settings, "kafka://127.0.0.1:9")
    links, _ = global_tables(app, settings.topics)
    sensor = _Reads()
    app.sensors.add(sensor)
    reads = SensorFreeReads(links)
    store = links.data.data  # what changelog recovery and the table's own writes update
    assert reads.get(KEY) is None and reads.get(KEY, b"-") == b"-"
    store[KEY] = b"acc-1"
    assert reads.get(KEY) == b"acc-1"
    links.data._clear()  # a rebalance's reset: the bound reader still reads the store
    assert reads.get(KEY) is None
    store[KEY] = b"acc-2"
    assert reads.get(KEY) == b"acc-2" and KEY in reads and len(reads) == 1 and list(reads) == [KEY]
    reads_seen = sensor.count
    links.get(KEY)
    assert reads_seen == 0 and sensor.count == 1  # the table's own read runs the sensors; ours does not
