"""The CSM slug (labels, per-CSM sets) and the rule every CSM filter follows: a name or its slug."""

from __future__ import annotations

import pytest

from healthmon.core.csm import csm_matches, csm_slug


@pytest.mark.parametrize(("csm", "slug"), [
    ("alice@example.com", "alice@example.com"),
    ("Bob@Example.COM", "bob@example.com"),
    ("  Alice Smith ", "alice-smith"),
    ('x"} evil{job="y', "x-evil-job-y"),
    ("Zoë Ångström", "zo-ngstr-m"),
    ("a" * 300, "a" * 64),
    ("a" * 63 + " b", "a" * 63),  # a cut never leaves a trailing separator
    ("", "none"),
    (None, "none"),
    ("---", "none"),
])
def test_the_slug_is_bounded_and_needs_no_escaping(csm: str | None, slug: str) -> None:
    assert csm_slug(csm) == slug


@pytest.mark.parametrize(("wanted", "csm", "matches"), [
    ("Alice Smith", "Alice Smith", True),  # the name
    ("alice-smith", "Alice Smith", True),  # its slug, as the dashboard's label shows it
    ("ALICE SMITH", "Alice Smith", True),
    ("alice smith", "Alice Smith", True),
    ("Alice", "Alice Smith", False),  # never a prefix
    ("alice-smith-2", "Alice Smith", False),
    ("bob@example.com", "Bob@Example.com", True),
    ("none", None, True),  # `none`: the accounts without a CSM
    ("none", "", True),
    ("none", "Alice Smith", False),
    ("Alice Smith", None, False),
    ("Zoë Ångström", "zo-ngstr-m", True),
])
def test_a_filter_takes_a_name_or_its_slug(wanted: str, csm: str | None, matches: bool) -> None:
    assert csm_matches(wanted, csm) is matches
