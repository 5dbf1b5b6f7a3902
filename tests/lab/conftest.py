"""The lab tests need the converged lab that `molecule test -s default --destroy never` leaves."""

from __future__ import annotations

import shutil

import pytest
from labkit import wait_whole


@pytest.fixture(scope="session", autouse=True)
def converged_lab() -> None:
    """The lab must be up and whole before any day-2 test runs."""
    if shutil.which("docker") is None:
        pytest.fail("docker CLI not found: the lab tests need the container lab (bin/test brings it up)")
    wait_whole(timeout=240)
