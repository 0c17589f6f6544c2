"""The examples in docstrings run (``python -m doctest`` would say the same)."""

from __future__ import annotations

import doctest
import importlib

import pytest

# modules whose ``>>>`` examples are complete programs (the others show a fragment)
DOCTEST_MODULES = ["releasetag.testing"]


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), verbose=False, report=True)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} example(s) of {name} failed (see above)"
