"""The broker-free pipeline: one Kafka message's way through decode, route, apply, tick and send.

The worker runs it inside its Faust agent, the backtest and the in-process benchmark run it on plain
dicts and stand-in topics: the same code path. It imports no Faust and opens no Kafka client. The
names below are its public interface; `streams` and `agents` use nothing else of it.
"""

from healthmon.pipeline.alignment import NO_EVENT_TIME, Aligner, Backlog, Pending
from healthmon.pipeline.deadletters import DeadLetterNotDelivered, deliver_dead_letter, retries_settled
from healthmon.pipeline.live_states import LiveStates
from healthmon.pipeline.moved_merge import Moved, MovedMerge
from healthmon.pipeline.outputs import PIPELINE_ALERT_KEY, OutputSender, OutputTopics, max_output_bytes
from healthmon.pipeline.pacing import Pace, Progress
from healthmon.pipeline.packs import RepartitionPacks
from healthmon.pipeline.processor import Inbound, Processor
from healthmon.pipeline.release_passes import ReleasePasses
from healthmon.pipeline.stuck_partitions import REREAD_LOG_MARK, PartitionProgress, StuckPartitionWatch
from healthmon.pipeline.tick_schedule import TickSchedule

__all__ = ["Aligner", "Backlog", "DeadLetterNotDelivered", "Inbound", "LiveStates", "Moved", "MovedMerge",
           "NO_EVENT_TIME", "OutputSender", "OutputTopics", "PIPELINE_ALERT_KEY", "Pace", "PartitionProgress",
           "Pending", "Processor", "Progress", "REREAD_LOG_MARK", "ReleasePasses", "RepartitionPacks",
           "StuckPartitionWatch", "TickSchedule", "deliver_dead_letter", "max_output_bytes", "retries_settled"]
