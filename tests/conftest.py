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


@pytest.fixture
def no_schemas(monkeypatch):
    """As where cfn-lint is not installed: no provider schema for any type."""
    from blueprint.cfn import schemas

    def clear() -> None:
        schemas.provider_schema.cache_clear()
        schemas.create_only_properties.cache_clear()
        schemas.tagging.cache_clear()

    clear()
    monkeypatch.setattr(schemas, "_schema_index", lambda: None)
    yield
    clear()
