"""The pipeline's sections: the engine's policy and lateness, the input limits, the event-time alignment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from pydantic import field_validator

from healthmon.config.section import Section, empty_path_is_unset, setting

__all__ = ["AlignmentSettings", "DEFAULT_POLICY_FILE", "EngineSettings", "IngestSettings", "min_occurred_at_ms"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_POLICY_FILE = Path(__file__).resolve().parent.parent / "policy" / "default.yaml"


class EngineSettings(Section):
    """The scoring engine's deployment knobs (the scoring itself is the policy file)."""

    TITLE: ClassVar[str] = "Engine"

    policy_file: Path = setting(DEFAULT_POLICY_FILE, "HEALTHMON_POLICY_FILE",
                                "YAML scoring policy (weights, thresholds, bands, warning lines, tiers).")
    lateness_seconds: int = setting(172_800, "HEALTHMON_LATENESS_SECONDS",
                                    "How late (event time) an event may arrive and still count.", ge=0)
    stall_idle_seconds: float = setting(
        10.0, "HEALTHMON_STALL_IDLE_SECONDS",
        "An input counts as stalled only after this long (wall clock) without a message, on top of the policy's "
        "event-time lag.", ge=0)
    history_days: int = setting(
        180, "HEALTHMON_HISTORY_DAYS",
        "Days of score history kept per account (one point per event-time day, in its state and in Redis), and "
        "the most `GET /accounts/{id}/history?days=` returns.", ge=1, le=3650)


class IngestSettings(Section):
    """What input is accepted, and how much of a rejected message its dead letter keeps."""

    TITLE: ClassVar[str] = "Input limits and dead letters"

    max_message_bytes: int = setting(1_048_576, "HEALTHMON_MAX_MESSAGE_BYTES",
                                     "Messages larger than this are dead-lettered unread.", ge=64)
    max_future_skew_seconds: int = setting(
        300, "HEALTHMON_MAX_FUTURE_SKEW_SECONDS",
        "An `occurred_at` further than this in the future (wall clock) is dead-lettered.", ge=0)
    deadletter_max_raw_bytes: int = setting(
        65_536, "HEALTHMON_DEADLETTER_MAX_RAW_BYTES",
        "A dead letter keeps at most this many bytes of the raw payload (and of the key), with the payload's "
        "full size and SHA-256, so that it always fits in one Kafka message (at most 262144).", ge=0, le=262_144)
    min_occurred_at: str = setting(
        "2000-01-01", "HEALTHMON_MIN_OCCURRED_AT",
        "The earliest `occurred_at` accepted (a date, or an RFC 3339 time, at or after 1970-01-01): older events "
        "are dead-lettered as clock defaults or epoch seconds sent by mistake. Lower it to replay an older archive.")
    inputs_file: Path | None = setting(
        None, "HEALTHMON_INPUTS_FILE",
        "YAML inputs file: the topics to read, their kind and their shape (see docs/inputs.md). Empty: the four "
        "topics above in healthmon's own shapes.")
    link_wait_seconds: float = setting(
        30.0, "HEALTHMON_LINK_WAIT_SECONDS",
        "How long an event whose account link (`user`, or an `account_link`) is not known yet is held for it "
        "before it is dead-lettered as `unknown_account` (inputs file only).", ge=0)

    @field_validator("min_occurred_at")
    @classmethod
    def _check_min_occurred_at(cls, value: str) -> str:
        min_occurred_at_ms(value)
        return value.strip()

    @field_validator("inputs_file", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: object) -> object:
        return empty_path_is_unset(value)

    @property
    def min_occurred_at_ms(self) -> int:
        """Return the earliest accepted `occurred_at` in epoch milliseconds."""
        return min_occurred_at_ms(self.min_occurred_at)


def min_occurred_at_ms(text: str) -> int:
    """Return `HEALTHMON_MIN_OCCURRED_AT` (`YYYY-MM-DD` or RFC 3339 with an offset) in epoch milliseconds."""
    text = text.strip()
    try:
        if len(text) == 10:
            at = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            at = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or an RFC 3339 time such as 1995-01-01T00:00:00Z") \
            from None
    if at.tzinfo is None:
        raise ValueError(f"{text!r}: an RFC 3339 time needs an offset (Z or +hh:mm)")
    ms = (at - _EPOCH) // timedelta(milliseconds=1)  # integers: floats lose a millisecond
    if ms < 0:
        raise ValueError(f"{text!r} is before 1970-01-01, the earliest time representable")
    return ms



class AlignmentSettings(Section):
    """How the inputs of a partition are merged by event time (`healthmon.pipeline.alignment`)."""

    TITLE: ClassVar[str] = "Event-time alignment"

    max_wait_ms: int = setting(
        500, "HEALTHMON_ALIGN_MAX_WAIT_MS",
        "Longest a message waits for another input of its partition that the consumer has read to its end while "
        "none of that input's last messages is seen on its way (event-time alignment across topics; offsets that "
        "hold no message, such as transaction markers, end the wait). An input with unread messages on the "
        "broker, or with messages in the consumer's buffers, is always waited for, however long it takes.", ge=0)
    max_queued_messages: int = setting(
        10_000, "HEALTHMON_ALIGN_MAX_QUEUED_MESSAGES",
        "Messages of one topic-partition held while another input of the partition catches up; past this the "
        "Kafka client stops fetching that topic-partition until half of them are processed (0: never pause, hold "
        "whole backlogs in memory).", ge=0)
    pace_drift_seconds: int | None = setting(
        None, "HEALTHMON_PACE_DRIFT_SECONDS",
        "How far (event time) a partition of an input not keyed by account (an inputs file's mapped formats) may run "
        "ahead of the slowest partition of its topic, across all workers, before it waits for it (so that an account "
        "never gets one partition's events more than this ahead of another's; it must be under "
        "`HEALTHMON_LATENESS_SECONDS`). Empty: half of `HEALTHMON_LATENESS_SECONDS`; 0: off.", ge=0)
    pace_native_inputs: bool = setting(
        False, "HEALTHMON_PACE_NATIVE_INPUTS",
        "Pace the inputs in healthmon's own shapes too (they are keyed by account, so by default they are not).")
    pace_unknown_wait_seconds: float = setting(
        10.0, "HEALTHMON_PACE_UNKNOWN_WAIT_SECONDS",
        "Longest a paced topic waits (wall clock) for a partition whose progress no worker has published yet, "
        "before it goes on without it (logged).", ge=0)
    merge_moved_events: bool = setting(
        True, "HEALTHMON_MERGE_MOVED_EVENTS",
        "Merge the events moved to their account's partition (inputs in a source's shape) into it by event time, "
        "so that faults leave the alerts identical: each partition waits for every paced one once per evaluation "
        "interval of event time. Off: moved events go in arrival order, faster (same states, but some alerts may "
        "differ after a fault: BENCHMARKS.md). Give every worker the same setting.")

    @field_validator("pace_drift_seconds", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def pace_drift_ms(self, lateness_seconds: int) -> int:
        """Return the pace's drift in ms (0: off), half of `lateness_seconds` unless set."""
        drift = self.pace_drift_seconds if self.pace_drift_seconds is not None else lateness_seconds // 2
        return drift * 1000
