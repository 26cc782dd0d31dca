"""Policy loading: precise errors with paths, defaults, tier overrides and the content hash."""

from __future__ import annotations

import pytest

from healthmon.config import DEFAULT_POLICY_FILE
from healthmon.core import PolicyError, check_policy_file, load_policy, parse_policy
from tests.core.builders import BASE_POLICY, policy_doc

LINE = BASE_POLICY["warning_lines"][0]
IDLE = {"name": "idle", "metric": "days_since_last_activity", "kind": "absolute", "above": 7, "exit_below": 1}


def _errors(doc) -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(doc)
    return info.value.errors


@pytest.mark.parametrize(("doc", "expected"), [
    pytest.param(policy_doc(measures=[{"metric": "weekly_active_ratio", "weight": 0, "bad": 0, "good": 1}]),
                 ["measures[0].weight: must be > 0"], id="zero-weight"),
    pytest.param(policy_doc(measures=[*BASE_POLICY["measures"],
                                      {"metric": "nps_90d", "weight": 1, "bad": 0, "good": 50},
                                      {"metric": "csat_28d", "weight": -2, "bad": 3, "good": 5}]),
                 ["measures[2].weight: must be > 0"], id="negative-weight-third"),
    pytest.param(policy_doc(bands={"green": 50, "yellow": 60}),
                 ["bands.yellow: must be below bands.green"], id="bands-inverted"),
    pytest.param(policy_doc(tiers={"vip": {"severity": "critical"}}),
                 ["tiers.vip: unknown tier (expected strategic, key, standard)"], id="unknown-tier"),
    pytest.param(policy_doc(warning_lines=[{**LINE, "kind": "percent"}]),
                 ["warning_lines[0].kind: must be one of absolute, relative, rhythm"], id="bad-kind"),
    pytest.param(policy_doc(measures=[{"metric": "weekly_active_ratio", "wieght": 1, "bad": 0, "good": 1}]),
                 ["measures[0].wieght: unknown key", "measures[0].weight: required"], id="typo-key"),
    pytest.param(policy_doc(bands={"green": "high", "yellow": 50}),
                 ["bands.green: must be a number"], id="green-not-number"),
    pytest.param(policy_doc(bands={"green": 175, "yellow": 50}),
                 ["bands.green: must be between 0 and 100"], id="green-out-of-range"),
    pytest.param(policy_doc(measures=[{"metric": "weekly_active_ratio", "weight": 1, "bad": 1, "good": 1}]),
                 ["measures[0].good: must differ from bad"], id="good-equals-bad"),
    pytest.param(policy_doc(warning_lines=[{**LINE, "exit_above": 0.2}]),
                 ["warning_lines[0].exit_above: must be greater than below (0.3)"], id="exit-below-enter"),
    pytest.param(policy_doc(warning_lines=[{"name": "drop", "metric": "weekly_active_users", "kind": "relative",
                                            "drop": 0.4, "exit_drop": 0.5}]),
                 ["warning_lines[0].exit_drop: must be smaller than drop (0.4)"], id="exit-drop-above-drop"),
    pytest.param(policy_doc(warning_lines=[{"name": "drop", "metric": "nps_90d", "kind": "relative",
                                            "drop": 1.5, "exit_drop": 0.2}]),
                 ["warning_lines[0].metric: relative lines support weekly_active_users, events_7d",
                  "warning_lines[0].drop: must be between 0 and 1"], id="relative-wrong-metric-and-drop"),
    pytest.param(policy_doc(warning_lines=[{**LINE, "drop": 0.4}]),
                 ["warning_lines[0].drop: only for relative lines"], id="relative-field-on-absolute"),
    pytest.param(policy_doc(warning_lines=[LINE, {**LINE, "for_seconds": 1.5}]),
                 ["warning_lines[1].name: duplicate name (also warning_lines[0])",
                  "warning_lines[1].for_seconds: must be an integer"], id="duplicate-line-and-float-seconds"),
    pytest.param(policy_doc(warning_lines=[{**LINE, "name": "health"}]),
                 ["warning_lines[0].name: is reserved"], id="reserved-name"),
    pytest.param(policy_doc(measures=[{"metric": "weekly_active_ratio", "weight": 1, "bad": 0, "good": 1},
                                      {"metric": "weekly_active_ratio", "weight": 2, "bad": 0, "good": 1}]),
                 ["measures[1].metric: duplicate measure (also measures[0])"], id="duplicate-measure"),
    pytest.param(policy_doc(tiers={"key": {"severity": "page", "measures": {"nps_90d": {"weight": 2}},
                                           "warning_lines": {"wau_low": {"below": 0.5}}}}),
                 ["tiers.key.severity: must be one of critical, error, warning, info",
                  "tiers.key.measures.nps_90d: not a measure of this policy",
                  "tiers.key.warning_lines.wau_low.exit_above: must be greater than below (0.5)"],
                 id="tier-overrides"),
    pytest.param(policy_doc(warning_lines=[{**IDLE, "above": 2, "exit_below": 5},
                                           {**IDLE, "name": "idle_mixed", "exit_above": 9},
                                           {"name": "idle_half", "metric": "days_since_last_activity",
                                            "kind": "absolute", "above": 7},
                                           {"name": "idle_none", "metric": "days_since_last_activity",
                                            "kind": "absolute"}]),
                 ["warning_lines[0].exit_below: must be smaller than above (2)",
                  "warning_lines[1].above: cannot be combined with exit_above: a line is either below/exit_above "
                  "(low is bad) or above/exit_below (high is bad)",
                  "warning_lines[2].exit_below: required",
                  "warning_lines[3]: an absolute line needs below and exit_above, or above and exit_below"],
                 id="above-lines"),
    pytest.param(policy_doc(warning_lines=[IDLE], tiers={"key": {"warning_lines": {"idle": {"below": 3}}}}),
                 ["tiers.key.warning_lines.idle.below: cannot change the direction of the line it overrides"],
                 id="above-line-override-changes-direction"),
    pytest.param(policy_doc(tiers={"strategic": {"bands": {"yellow": 80}}}),
                 ["tiers.strategic.bands.yellow: must be below green (75)"], id="tier-bands-inverted"),
    pytest.param(policy_doc(pipeline={"sources": {"clicks": {"stale_after_seconds": 60},
                                                  "usage": {"stale_after_seconds": 0}}}),
                 ["pipeline.sources.clicks: unknown source (expected usage, ticket, nps, account)",
                  "pipeline.sources.usage.stale_after_seconds: must be > 0"], id="pipeline-sources"),
    pytest.param(policy_doc(core_features=[], evaluation_interval_seconds=True),
                 ["core_features: must be a non-empty list of feature names",
                  "evaluation_interval_seconds: must be an integer"], id="empty-core-and-bool-interval"),
    pytest.param({"bands": {"green": 75, "yellow": 50}, "extra": 1},
                 ["extra: unknown key", "core_features: required", "measures: required"], id="missing-sections"),
    pytest.param(["not", "a", "mapping"], ["<root>: must be a mapping"], id="not-a-mapping"),
    pytest.param("bands:\n  green: 75\n yellow: 50\n",
                 ["yaml: line 3, column 2: expected <block end>, but found '<block mapping start>'"],
                 id="yaml-syntax"),
    pytest.param("core_features: [a]\nbands:\n  green: 75\n  green: 70\n",
                 ["yaml: line 4, column 3: duplicate key 'green'"], id="yaml-duplicate-key"),
])
def test_broken_policy_reports_every_error_with_its_path(doc, expected) -> None:
    assert _errors(doc) == expected


def test_above_line_and_its_tier_override_load() -> None:
    policy = parse_policy(policy_doc(warning_lines=[IDLE], tiers={"key": {"warning_lines": {"idle": {"above": 3}}}}))
    (standard,), (key,) = policy.for_tier("standard").warning_lines, policy.for_tier("key").warning_lines
    assert (standard.above, standard.exit_below, standard.below, standard.exit_above) == (7, 1, None, None)
    assert (key.above, key.exit_below) == (3, 1)
    assert "below" not in policy.document["warning_lines"][0]  # a below line's version is unchanged by this


def test_default_policy_is_valid_and_versioned() -> None:
    policy = load_policy(DEFAULT_POLICY_FILE)
    assert policy.version.startswith("sha256:") and len(policy.version) == len("sha256:") + 12
    assert policy.tiers["strategic"].severity == "critical"
    assert policy.tiers["key"].severity == "error"
    assert policy.tiers["standard"].severity == "warning"
    assert "usage" in policy.stale_after_seconds


def test_version_is_a_content_hash_insensitive_to_formatting() -> None:
    a = parse_policy(policy_doc())
    b = parse_policy(policy_doc(warmup_seconds=0))  # the same value spelled out
    c = parse_policy(policy_doc(warmup_seconds=60))
    assert a.version == b.version
    assert a.version != c.version


def test_tier_overrides_merge_into_the_tier_policy() -> None:
    policy = parse_policy(policy_doc(tiers={"strategic": {
        "severity": "info", "bands": {"green": 90},
        "measures": {"weekly_active_ratio": {"weight": 7}},
        "warning_lines": {"wau_low": {"below": 0.5, "exit_above": 0.6, "enabled": True}},
    }, "key": {"warning_lines": {"wau_low": {"enabled": False}}}}))
    strategic, key, standard = (policy.tiers[t] for t in ("strategic", "key", "standard"))
    assert (strategic.severity, strategic.bands.green, strategic.bands.yellow) == ("info", 90, 50)
    assert strategic.measures[0].weight == 7 and standard.measures[0].weight == 1
    assert (strategic.warning_lines[0].below, strategic.warning_lines[0].exit_above) == (0.5, 0.6)
    assert key.warning_lines == ()
    assert standard.warning_lines[0].below == 0.3


def test_check_policy_file(tmp_path) -> None:
    ok, lines = check_policy_file(DEFAULT_POLICY_FILE)
    assert ok and "ok, version sha256:" in lines[0]
    bad = tmp_path / "bad.yaml"
    bad.write_text("core_features: [a]\nbands: {green: 10, yellow: 20}\nmeasures: []\n")
    assert check_policy_file(bad) == (False, ["bands.yellow: must be below bands.green",
                                              "measures: must be a non-empty list"])
    assert check_policy_file(tmp_path / "missing.yaml")[0] is False


def _keys(node, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            out.add(key)
            _keys(value, out)
    elif isinstance(node, list):
        for item in node:
            _keys(item, out)
    return out


def test_every_policy_knob_is_documented() -> None:
    docs = (DEFAULT_POLICY_FILE.parents[2] / "docs" / "policy.md").read_text()
    document = load_policy(DEFAULT_POLICY_FILE).document
    knobs = _keys(document, set()) - set(document["tiers"]) - {"usage", "ticket", "sources"} \
        - {ln["name"] for ln in document["warning_lines"]}
    knobs |= {"drop", "exit_drop", "min_baseline", "below", "exit_above", "above", "exit_below", "enabled",
              "above_by_active_days", "gap_multiple", "min_above", "max_above"}
    missing = sorted(k for k in knobs if f"`{k}`" not in docs and f".{k}`" not in docs)
    assert missing == []
