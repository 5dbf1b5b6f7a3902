"""The lab tests need the converged lab that `molecule test -s default --destroy never` leaves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from labkit import LAB_INVENTORY, gcs_in_redis, inventory_with, pins, ray_image, wait_whole


@pytest.fixture(scope="session", autouse=True)
def converged_lab(redis_inventory: Path) -> None:
    """The lab must be up and whole before any day-2 test runs: as molecule left it, or as the upgrade
    test leaves it (the other Ray, the GCS in Redis: redis_inventory) when a later module runs alone."""
    if shutil.which("docker") is None:
        pytest.fail("docker CLI not found: the lab tests need the container lab (bin/test brings it up)")
    wait_whole(redis_inventory if gcs_in_redis() else LAB_INVENTORY, timeout=240)


@pytest.fixture(scope="session")
def redis_inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab inventory as the upgrade test leaves it: the other Ray version (pins.RAY_PREVIOUS_VERSION,
    its image) and ray_cluster_gcs_storage=redis. The upgrade test moves the lab to it in one
    recreation of the whole cluster (the other Ray, a new token, the new store); the Redis tests and
    the teardown then run on it."""
    changes = {
        "ray_cluster_gcs_storage": "redis",
        "ray_cluster_version": pins.RAY_PREVIOUS_VERSION,
        "ray_cluster_image": ray_image(pins.RAY_PREVIOUS_VERSION),
    }
    return inventory_with(tmp_path_factory.mktemp("redis"), {"group:ray_cluster": changes})
