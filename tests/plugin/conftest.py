"""Fixtures for the plugin's tests: a user's test suite run in its own pytest process
(pytester's), with the plugin loaded from its entry point as any user's run loads it,
and checked to have left no server running."""

from __future__ import annotations

import pytest

from tests.plugin.helpers import INNER, processes_under


@pytest.fixture
def run_user_suite(request):
    """``run(source, *args)``: the user's test file run by pytest in a process of its
    own (pytester's ``runpytest_subprocess``); after it, no process may be left that
    was started under its folder. Needs ``pytest_plugins = ["pytester"]`` in the test
    module."""
    pytester = request.getfixturevalue("pytester")

    def run(source: str, *args: str, name: str = "test_user_suite"):
        pytester.makepyfile(**{name: source})
        result = pytester.runpytest_subprocess(*INNER, *args, timeout=240)
        left = processes_under(pytester.path)
        assert not left, f"the user's run left processes behind: {left}"
        return result

    return run
