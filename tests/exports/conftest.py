"""The fixture study's exports, built once per test session (tests/exports/fixture_study.py)."""

from __future__ import annotations

import pytest

from tests.exports.fixture_study import build_exports

FORMATS = ("csv", "parquet", "sav", "dta", "codebook-json", "codebook-md")


@pytest.fixture(scope="session")
def exports(tmp_path_factory):
    """{format: path} of the fixture study exported by `framelab export`."""
    return build_exports(tmp_path_factory.mktemp("exports"), FORMATS)
