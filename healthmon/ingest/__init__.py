"""Pure ingest: bytes in, validated events and rejections out (no Kafka, no Faust)."""

from healthmon.ingest.deadletter import dead_letter_record
from healthmon.ingest.decode import Decoded, Rejection, decode_message
from healthmon.ingest.routing import partition_for

__all__ = ["Decoded", "Rejection", "decode_message", "dead_letter_record", "partition_for"]
