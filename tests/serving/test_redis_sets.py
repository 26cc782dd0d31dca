"""What decides whether a snapshot changed."""

from __future__ import annotations

from healthmon.serving.redis_sets import snapshot_fingerprint
from tests.serving.conftest import make_snapshot


def test_fingerprint_covers_every_field_as_of_included_and_the_progress():
    snap = make_snapshot("acc-1")
    assert snapshot_fingerprint(snap) != snapshot_fingerprint({**snap, "as_of": snap["as_of"] + 1})
    assert snapshot_fingerprint(snap) != snapshot_fingerprint(snap, progress=1)
    assert snapshot_fingerprint(snap) != snapshot_fingerprint({**snap, "firing": ["health"]})
    assert snapshot_fingerprint(snap) == snapshot_fingerprint(dict(reversed(list(snap.items()))))
