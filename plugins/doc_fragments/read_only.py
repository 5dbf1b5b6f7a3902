# Copyright (c) 2026 WizardSofts
# Apache License 2.0
"""Documentation shared by the collection's read-only modules."""

from __future__ import annotations


class ModuleDocFragment:
    # Attributes of a module that only reads: it runs the same in check mode and has no diff.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is no diff.
"""
