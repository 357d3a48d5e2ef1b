"""Uncertainty of an inversion by noise resampling (:func:`resample_intervals`).

See :mod:`nmrilt.uncertainty.resampling` for the method, :mod:`.models` for why two
models are resampled, and ``docs/uncertainty.md`` for the user's view.
"""

from .resampling import IntervalEstimate, refit, resample_intervals
from .result import plan_resamples, uncertainty_columns, uncertainty_of

__all__ = ["IntervalEstimate", "plan_resamples", "refit", "resample_intervals",
           "uncertainty_columns", "uncertainty_of"]
