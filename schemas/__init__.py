"""Contracts: typed models of every input, the dead-letter record and the alert; JSON Schemas in `json/`."""

from schemas.events import (
    AccountProfile,
    Event,
    NpsResponse,
    SupportTicket,
    UsageEvent,
    EVENT_MODELS,
)
from schemas.deadletter import DeadLetter, DeadLetterReason
from schemas.alert import Alert

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

SCHEMA_VERSION = 1
