"""The dead-letter record: what was rejected, from where, and why."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DeadLetter", "DeadLetterReason"]


class DeadLetterReason(str, Enum):
    """Why a message or event was rejected."""

    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    BAD_ENVELOPE = "bad_envelope"
    SCHEMA_VIOLATION = "schema_violation"
    UNKNOWN_ENUM = "unknown_enum"
    FUTURE_TIMESTAMP = "future_timestamp"
    TOO_LATE = "too_late"
    PROCESSING_ERROR = "processing_error"


class DeadLetter(BaseModel):
    """A rejected message (or one event of a batch) with its raw bytes and source position."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    source_topic: str
    source_partition: int
    source_offset: int
    batch_index: int | None = Field(None, description="Index of the event in a batch; null for a whole message.")
    reason: DeadLetterReason
    error: str = Field(description="Human-readable detail, with the field path where there is one.")
    raw_base64: str = Field(description="The raw bytes (the whole message, or the one event of a batch).")
    key_base64: str | None = None
    received_at: int = Field(description="Processing time, epoch milliseconds.")
