"""A CSM as labels, URLs and filters spell it: the slug of the profile's free-text name, and the match rule.

The profile's `csm` is free text (up to 200 characters of anything). Where it must be bounded and need no
escaping (the per-account series' `csm` label, the Redis view's per-CSM sets) it becomes a slug:
"Alice Smith" -> "alice-smith", "Bob@Example.com" -> "bob@example.com", and "none" for an account whose
profile names nobody. Every CSM filter (`/accounts?csm=`, `/ui/?csm=`, `healthmon digest --csm`) takes
either spelling, because it compares slugs: a name copied from a profile and a label copied from Grafana
pick the same accounts.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["CSM_MAX_CHARS", "NO_CSM", "csm_matches", "csm_slug"]

#: the slug of an account whose profile names no CSM (or that has no profile yet)
NO_CSM = "none"
CSM_MAX_CHARS = 64
_NOT_IN_SLUG = re.compile(r"[^a-z0-9._@+-]+")


@lru_cache(maxsize=4096)  # a portfolio has few CSMs; each account is scored again and again
def csm_slug(csm: str | None) -> str:
    """Return the slug of a CSM: lowercase, `[a-z0-9._@+-]` only, at most 64 characters, `none` for nobody."""
    slug = _NOT_IN_SLUG.sub("-", (csm or "").strip().lower()).strip("-")[:CSM_MAX_CHARS].rstrip("-")
    return slug or NO_CSM


def csm_matches(wanted: str, csm: str | None) -> bool:
    """Return whether a filter's `wanted` CSM (a name or its slug; `none`: nobody) picks an account's `csm`."""
    # Comparing slugs is what makes both spellings work; it also joins names that differ only in case,
    # spacing or punctuation, which is the one-spelling-per-person rule the label already follows.
    return csm_slug(wanted) == csm_slug(csm)
