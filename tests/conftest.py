"""Shared fixtures: the shipped taxonomy and schema are loaded once per test session."""

from __future__ import annotations

import pytest

from personagym.simulators.persona import PersonaSchema, load_schema
from personagym.simulators.taxonomy import Taxonomy, load_taxonomy


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="session")
def schema() -> PersonaSchema:
    return load_schema()
