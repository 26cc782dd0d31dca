"""Contracts: typed models of every input, the dead-letter record and the alert; JSON Schemas in `json/`."""

from schemas.alert import Alert
from schemas.deadletter import DeadLetter, DeadLetterReason
from schemas.events import (
    EVENT_MODELS,
    AccountProfile,
    Event,
    NpsResponse,
    SupportTicket,
    UsageEvent,
)

__all__ = [
    "Alert",
    "AccountProfile",
    "DeadLetter",
    "DeadLetterReason",
    "Event",
    "EVENT_MODELS",
    "NpsResponse",
    "SupportTicket",
    "UsageEvent",
    "SCHEMA_VERSION",
]

#: Version of the contracts, named in each exported JSON Schema's `$id` (`.../v1/...`).
SCHEMA_VERSION = 1
