"""The code passes the linter: ``ruff check`` with the rules of ``[tool.ruff]`` in pyproject.toml
(pycodestyle errors, pyflakes, import order), over everything that is Python in the repository."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: what is linted: the package, its tests and the scripts
LINTED = ("docencoder", "tests", "scripts")


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff is not installed (pip install -e '.[dev]')")
def test_ruff_finds_nothing():
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
               *LINTED]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"ruff check {' '.join(LINTED)}:\n{run.stdout}{run.stderr}"
