"""The runnable examples in the public docstrings give the numbers they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "analysis.hc",
    "analysis.estimators",
    "analysis.glm",
    "analysis.inference",
    "analysis.plan",
    "analysis.run",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
