"""What decides whether a snapshot changed."""

from __future__ import annotations

from healthmon.serving.redis_sets import snapshot_fingerprint
from tests.serving.conftest import make_snapshot


def test_fingerprint_ignores_only_update_times():
    snap = make_snapshot("acc-1")
    assert snapshot_fingerprint(snap) == snapshot_fingerprint({**snap, "updated_at": 1, "as_of": 2})
    assert snapshot_fingerprint(snap) != snapshot_fingerprint({**snap, "firing": ["health"]})
    assert snapshot_fingerprint(snap) == snapshot_fingerprint(dict(reversed(list(snap.items()))))
