"""The words healthmon's records and metrics are made of, defined once: inputs, tiers, bands, alerts, outcomes.

The contracts (`schemas/`), the metrics' label values (`healthmon.serving.metrics`) and the policy
validation all take their values from here; each `Literal` type names the values its tuple lists.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = [
    "ALERT_KINDS", "ALERT_SCHEMA_MINOR", "ALERT_SCHEMA_VERSION", "AlertSchemaMinor", "LINE_STATUSES", "LineStatus",
    "SCORE_KINDS", "SCORE_SCHEMA_VERSION", "ScoreKind", "ScoreSchemaVersion", "ALERT_STATUSES", "BANDS",
    "DEADLETTER_SCHEMA_VERSION", "DUPLICATE",
    "DEAD_LETTER", "EVENT_KINDS", "FIRING", "IGNORED", "INPUT_KINDS", "OK", "OUTCOMES", "RESOLVED", "SEVERITIES",
    "TIERS", "TOO_LATE", "AlertKind", "AlertSchemaVersion", "AlertStatus", "Band", "DeadLetterSchemaVersion",
    "EventKind", "InputKind", "Outcome", "Severity", "TICKET_PRIORITIES", "TICKET_STATUSES", "TicketPriority",
    "TicketStatus", "Tier",
]

#: The inputs: product usage, support tickets, NPS answers (events in time) and account profiles.
InputKind = Literal["usage", "ticket", "nps", "account"]
INPUT_KINDS: Final[tuple[InputKind, ...]] = get_args(InputKind)
#: The inputs whose events carry an `occurred_at` (in this order in the state codec's format).
EventKind = Literal["usage", "ticket", "nps"]
EVENT_KINDS: Final[tuple[EventKind, ...]] = get_args(EventKind)

#: A support ticket's event status and its priority (from least to most urgent).
TicketStatus = Literal["opened", "updated", "closed", "reopened"]
TICKET_STATUSES: Final[tuple[TicketStatus, ...]] = get_args(TicketStatus)
TicketPriority = Literal["low", "normal", "high", "urgent"]
TICKET_PRIORITIES: Final[tuple[TicketPriority, ...]] = get_args(TicketPriority)

#: Account tiers, by ARR and complexity.
Tier = Literal["strategic", "key", "standard"]
TIERS: Final[tuple[Tier, ...]] = get_args(Tier)

#: Health bands, from best to worst.
Band = Literal["green", "yellow", "red"]
BANDS: Final[tuple[Band, ...]] = get_args(Band)

#: Alert severities (PagerDuty Events v2), from most to least urgent.
Severity = Literal["critical", "error", "warning", "info"]
SEVERITIES: Final[tuple[Severity, ...]] = get_args(Severity)

AlertKind = Literal["health_changed", "below_warning_line", "ingest_stalled"]
ALERT_KINDS: Final[tuple[AlertKind, ...]] = get_args(AlertKind)
AlertStatus = Literal["firing", "resolved"]
ALERT_STATUSES: Final[tuple[AlertStatus, ...]] = get_args(AlertStatus)
FIRING: Final = "firing"
RESOLVED: Final = "resolved"

#: What became of an input event: applied, dead-lettered at decoding, a repeated event id, too late, or
#: ignored (a message its input legitimately carries that holds nothing for healthmon, such as a Segment
#: `page` call on a usage topic: counted, never dead-lettered).
Outcome = Literal["ok", "dead_letter", "duplicate", "too_late", "ignored"]
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)
OK: Final = "ok"
DEAD_LETTER: Final = "dead_letter"
DUPLICATE: Final = "duplicate"
TOO_LATE: Final = "too_late"
IGNORED: Final = "ignored"

#: `schema_version` of the alert and dead-letter records (the exported JSON Schemas' `$id` names it too).
AlertSchemaVersion = Literal[1]
ALERT_SCHEMA_VERSION: Final[AlertSchemaVersion] = 1
#: `schema_minor` of the alert record: a step adds fields only, so a consumer of any 1.x keeps working.
#: 1 added `schema_minor`, `score_7d_ago` and `score_30d_ago`.
AlertSchemaMinor = Literal[1]
ALERT_SCHEMA_MINOR: Final[AlertSchemaMinor] = 1
#: `schema_version` of the health-scores record.
ScoreSchemaVersion = Literal[1]
SCORE_SCHEMA_VERSION: Final[ScoreSchemaVersion] = 1
#: What a health-scores record stands for: the end of an event-time day, or a change of the announced band.
ScoreKind = Literal["day", "band_change"]
SCORE_KINDS: Final[tuple[ScoreKind, ...]] = get_args(ScoreKind)
#: The state of a warning line in a health-scores record.
LineStatus = Literal["ok", "pending", "firing"]
LINE_STATUSES: Final[tuple[LineStatus, ...]] = get_args(LineStatus)
DeadLetterSchemaVersion = Literal[1]
DEADLETTER_SCHEMA_VERSION: Final[DeadLetterSchemaVersion] = 1
