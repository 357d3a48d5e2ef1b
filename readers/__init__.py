"""Readers: vendor experiment folders and plain data files -> :class:`Experiment`.

Installed as ``nmrilt.readers``.
"""

from __future__ import annotations

from .experiment import AXIS_ROLES, EXPERIMENT_KINDS, Axis, Experiment

__all__ = ["AXIS_ROLES", "EXPERIMENT_KINDS", "Axis", "Experiment"]
