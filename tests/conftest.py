"""Shared fixtures: the repository root and throw-away copies of the project's spec files."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the spec files and generated/ in a temporary folder, to edit freely."""
    shutil.copy(ROOT / "blueprint.yaml", tmp_path / "blueprint.yaml")
    shutil.copytree(ROOT / "envs", tmp_path / "envs")
    shutil.copytree(ROOT / "generated", tmp_path / "generated")
    return tmp_path
