"""The digest as markdown (stdout, for email tools) and as Slack incoming-webhook JSON (Mattermost takes it too)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from healthmon.digest.report import CsmDigest, Move

__all__ = ["MAX_LISTED", "render_markdown", "slack_payload"]

#: accounts listed per section; the rest are counted
MAX_LISTED = 20
_EPOCH = date(1970, 1, 1)


def _day(day: int) -> str:
    return (_EPOCH + timedelta(days=day)).isoformat()


def _score(value: float | None) -> str:
    return "no score" if value is None else f"{value:g}"


def _change(move: Move, days: int) -> str:
    change = move.change
    if change is None:
        return "new"
    whole = round(change)
    sign = "−" if whole < 0 else "+" if whole > 0 else "±"
    return f"{sign}{abs(whole)} in {days} days"


def _line(move: Move, days: int, bold: str, section: str) -> str:
    who = f"{bold}{move.name}{bold} ({move.tier or 'no tier'})"
    what = f"score {_score(move.score)} ({_change(move, days)}), {move.band or 'no band'}"
    if section == "recovered" and move.band_before:
        what += f", from {move.band_before}"
    reasons = f": {', '.join(move.reasons)}" if move.reasons and section != "recovered" else ""
    return f"{who}: {what}{reasons}"


def _sections(digest: CsmDigest) -> list[tuple[str, str, list[Move]]]:
    return [("down", "Moved down the most", digest.down), ("at_risk", "At risk now", digest.at_risk),
            ("recovered", "Recovered", digest.recovered)]


def _title(digest: CsmDigest) -> str:
    first = _day(digest.last_day - digest.days + 1)
    return f"{digest.csm}: {digest.days} days, {first} to {_day(digest.last_day)} (event time)"


def render_markdown(digests: list[CsmDigest]) -> str:
    """Return every CSM's digest as markdown."""
    if not digests:
        return "No scored accounts in the view.\n"
    out: list[str] = []
    for digest in digests:
        out += [f"## {_title(digest)}", ""]
        for key, heading, moves in _sections(digest):
            out.append(f"### {heading}")
            if not moves:
                out.append("None.")
            for n, move in enumerate(moves[:MAX_LISTED], 1):
                out.append(f"{n}. {_line(move, digest.days, '**', key)}")
            if len(moves) > MAX_LISTED:
                out.append(f"… and {len(moves) - MAX_LISTED} more")
            out.append("")
    return "\n".join(out)


def slack_payload(digest: CsmDigest) -> dict[str, Any]:
    """Return one CSM's digest as an incoming-webhook message (`text` in Slack's mrkdwn)."""
    lines = [f"*Health digest for {_title(digest)}*"]
    for key, heading, moves in _sections(digest):
        lines.append(f"*{heading}*")
        if not moves:
            lines.append("None.")
        lines += [f"• {_line(move, digest.days, '*', key)}" for move in moves[:MAX_LISTED]]
        if len(moves) > MAX_LISTED:
            lines.append(f"… and {len(moves) - MAX_LISTED} more")
    return {"text": "\n".join(lines)}
