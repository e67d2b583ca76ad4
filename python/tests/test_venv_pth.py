"""The venv holds no ``.pth`` file that requirements.lock does not list.

A ``.pth`` file runs code at every interpreter start; poisoned releases (litellm
1.82.8) used one to steal credentials. The lock's ``# expected-pth:`` line lists
the ones a fresh venv is expected to have.
"""

from __future__ import annotations

import site
import sys
from pathlib import Path

import pytest

LOCK = Path(__file__).resolve().parents[1] / "requirements.lock"


def expected_pth() -> set[str]:
    """File names on the lock's ``# expected-pth:`` line."""
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expected-pth:"):
            return set(line.split(":", 1)[1].split())
    raise AssertionError(f"{LOCK} has no '# expected-pth:' line")


def venv_site_packages() -> list[Path]:
    """The venv's own site-packages directories (under sys.prefix)."""
    prefix = Path(sys.prefix).resolve()
    return [Path(p) for p in site.getsitepackages() if Path(p).resolve().is_relative_to(prefix)]


def unexpected_pth(directories: list[Path], expected: set[str]) -> list[Path]:
    """The ``.pth`` files in ``directories`` whose names are not in ``expected``."""
    return sorted(p for d in directories for p in d.glob("*.pth") if p.name not in expected)


def test_the_check_finds_a_pth_file_nobody_listed(tmp_path: Path) -> None:
    (tmp_path / "distutils-precedence.pth").write_text("import _distutils_hack\n")
    (tmp_path / "litellm_init.pth").write_text("import os; exfiltrate(os.environ)\n")
    assert unexpected_pth([tmp_path], expected_pth()) == [tmp_path / "litellm_init.pth"]


def test_the_lock_lists_expected_pth_files() -> None:
    assert "distutils-precedence.pth" in expected_pth()


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="not running in a venv")
def test_the_venv_holds_no_unexpected_pth_file() -> None:
    directories = venv_site_packages()
    assert directories, f"no site-packages under {sys.prefix}"
    unexpected = unexpected_pth(directories, expected_pth())
    assert not unexpected, (
        f"unexpected .pth files in the venv {sys.prefix}: "
        + ", ".join(map(str, unexpected))
        + f" (each runs code at interpreter start; if legitimate, list it on the "
        f"'# expected-pth:' line of {LOCK.name})"
    )
