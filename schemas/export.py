"""Export the JSON Schema of every contract to schemas/json/ (`python -m schemas.export`)."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
from pydantic import BaseModel

from schemas import SCHEMA_VERSION
from schemas.deadletter import DeadLetter
from schemas.events import AccountProfile, NpsResponse, SupportTicket, UsageEvent

__all__ = ["CONTRACTS", "JSON_DIR", "render", "export"]

JSON_DIR = Path(__file__).resolve().parent / "json"
SCHEMA_BASE = "https://healthmon.dev/schemas"


def _contracts() -> dict[str, type[BaseModel]]:
    from schemas.alert import Alert
    from schemas.score import HealthScore

    return {
        "product-usage": UsageEvent,
        "support-ticket": SupportTicket,
        "nps-response": NpsResponse,
        "account-profile": AccountProfile,
        "dead-letter": DeadLetter,
        "health-alert": Alert,
        "health-score": HealthScore,
    }


CONTRACTS = _contracts()


def render(name: str, model: type[BaseModel]) -> bytes:
    """Return the exported JSON Schema document of one contract."""
    schema = model.model_json_schema(mode="validation")
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}/v{SCHEMA_VERSION}/{name}.schema.json",
        **schema,
    }
    if name not in ("dead-letter", "health-alert", "health-score"):
        doc["description"] = (doc.get("description", "") + " A Kafka message holds one such event, or a batch: "
                              "a JSON array of them, or {\"events\": [...]}.").strip()
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def export(directory: Path = JSON_DIR) -> list[Path]:
    """Write every schema into `directory` and return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in CONTRACTS.items():
        path = directory / f"{name}.schema.json"
        path.write_bytes(render(name, model))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in export(Path(sys.argv[1]) if len(sys.argv) > 1 else JSON_DIR):
        print(p)
