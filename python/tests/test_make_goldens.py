"""``python/tools/make_goldens.py`` against the committed ``testdata/frames``.

The generator runs from ``cases.json`` into a temporary folder; its output
must equal the committed files byte for byte, so the case data and the
golden files cannot drift apart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from golden_support import FRAMES_DIR

GENERATOR = Path(__file__).resolve().parents[1] / "tools" / "make_goldens.py"
#: Committed in the folder but not written by the generator.
SOURCES = {"README.md", "cases.json"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args], capture_output=True, text=True, timeout=120
    )


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_generator_output_equals_the_committed_golden_files(tmp_path: Path) -> None:
    result = _run("--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = _files(tmp_path)
    committed = {name: data for name, data in _files(FRAMES_DIR).items() if name not in SOURCES}
    assert sorted(written) == sorted(committed)
    differing = [name for name in committed if written[name] != committed[name]]
    assert not differing, f"regenerate testdata/frames: {differing} differ from cases.json"


def test_generator_refuses_an_unknown_directive_naming_the_case(tmp_path: Path) -> None:
    cases = tmp_path / "cases.json"
    spec = {
        "version": 1,
        "cases": [
            {
                "name": "typo",
                "kind": "frames",
                "description": "a misspelt directive",
                "frames": [{"type": "JSON", "value": {"$repaet": ["x", 3]}}],
            }
        ],
        "errors": [],
    }
    cases.write_text(json.dumps(spec), encoding="utf-8")
    result = _run("--cases", str(cases), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "cases typo" in result.stderr and "unknown directive $repaet" in result.stderr
    assert not (tmp_path / "out").exists()
