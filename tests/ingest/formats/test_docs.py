"""The README's inputs section cannot drift: its preset tables and its example file are the code's and the file's."""

from __future__ import annotations

from pathlib import Path

from healthmon.ingest.formats import FORMATS, PRESETS
from healthmon.ingest.formats.docs import DOCUMENTED, preset_tables

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text()


def test_the_readme_tables_are_the_presets_own():
    assert preset_tables() in README, "README's preset tables are stale: run `python -m healthmon.ingest.formats.docs`"


def test_every_preset_has_a_table():
    assert set(DOCUMENTED) == set(FORMATS) - {"healthmon", "mapping"}
    for name in DOCUMENTED:
        assert f"**`{name}`** ([spec]({PRESETS[name].reference}))" in README


def test_the_readme_shows_the_example_inputs_file():
    example = (ROOT / "deploy" / "inputs.example.yaml").read_text().rstrip()
    assert f"```yaml\n{example}\n```" in README


def test_docs_inputs_names_every_preset_and_reason():
    doc = (ROOT / "docs" / "inputs.md").read_text()
    for word in (*FORMATS, "unknown_account", "unmapped", "ignored", "LinkedEvent", "ProfilePatch", "AccountRemoval"):
        assert word in doc, word
