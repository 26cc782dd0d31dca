"""The dead-letter record: what was rejected, from where, and why."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from healthmon.core.vocabulary import DEADLETTER_SCHEMA_VERSION

__all__ = ["DeadLetter", "DeadLetterReason", "MAX_ERROR_CHARS"]

#: The `error` text is cut to this many characters (a pydantic message may quote a huge input value).
MAX_ERROR_CHARS = 2_000


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
    #: a mapped input's event names no account, or a link that knows no account for its key
    UNKNOWN_ACCOUNT = "unknown_account"
    #: a field of a mapped input could not be read: its expression found nothing, or nothing of the right type
    UNMAPPED = "unmapped"


class DeadLetter(BaseModel):
    """A rejected message (or one event of a batch) with its raw bytes and source position."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = DEADLETTER_SCHEMA_VERSION
    source_topic: str = Field(description="The input topic the message was read from (never an internal topic).")
    source_partition: int
    source_offset: int
    batch_index: int | None = Field(None, description="Index of the event in a batch; null for a whole message.")
    reason: DeadLetterReason
    error: str = Field(max_length=MAX_ERROR_CHARS,
                       description="Human-readable detail, with the field path where there is one.")
    raw_base64: str = Field(description="The raw bytes (the whole message, or the one event of a batch), cut to "
                                        "the first HEALTHMON_DEADLETTER_MAX_RAW_BYTES bytes when longer.")
    raw_bytes: int = Field(ge=0, description="Size of the whole raw payload in bytes, before any cut.")
    raw_sha256: str = Field(pattern="^[0-9a-f]{64}$",
                            description="SHA-256 (hex) of the whole raw payload, before any cut.")
    raw_truncated: bool = Field(description="True when `raw_base64` holds only a prefix of the payload.")
    key_base64: str | None = Field(None, description="The message key, cut like the raw payload; null for none.")
    key_truncated: bool = Field(description="True when `key_base64` holds only a prefix of the key.")
    received_at: int = Field(description="Processing time, epoch milliseconds.")
