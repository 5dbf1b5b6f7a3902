"""Host-level checks of the converged lab, run by molecule verify (verify.yml) with testinfra hosts
reached the way the inventory reaches them; the helpers are the lab tests' own (tests/lab/labkit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
