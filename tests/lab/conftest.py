"""The lab tests need the converged lab that `molecule test -s default --destroy never` leaves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from labkit import LAB_INVENTORY, gcs_in_redis, inventory_with, wait_whole


@pytest.fixture(scope="session", autouse=True)
def converged_lab(redis_inventory: Path) -> None:
    """The lab must be up and whole before any day-2 test runs: as molecule left it, or as the upgrade
    test leaves it (the GCS in Redis: redis_inventory) when a later module runs alone."""
    if shutil.which("docker") is None:
        pytest.fail("docker CLI not found: the lab tests need the container lab (bin/test brings it up)")
    wait_whole(redis_inventory if gcs_in_redis() else LAB_INVENTORY, timeout=240)


@pytest.fixture(scope="session")
def redis_inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab inventory with ray_cluster_gcs_storage=redis. The upgrade test moves the lab to it on
    its way back (one recreation of the whole cluster for the new Ray, the new token and the new
    store); the Redis tests and the teardown then run on it."""
    return inventory_with(tmp_path_factory.mktemp("redis"), {"group:ray_cluster": {"ray_cluster_gcs_storage": "redis"}})
