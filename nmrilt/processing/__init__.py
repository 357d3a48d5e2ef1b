"""Experiment -> Problem: FT, phase, baseline, chemical-shift handling, noise scaling, kernels.

Processing turns what a reader returns (complex FIDs along the last axis, or TopSpin's
processed spectra) into the arrays the solver needs.  The steps, in order:

1. **Spectrum.**  Raw FIDs: optional exponential line broadening (``"auto"``: the
   operator's exponential window the reader found, ``meta["vendor_processing"]``, else
   only for truncated FIDs), first point halved, ``fftshift(fft(fid))``.  The FID convention of the :class:`Experiment` contract is
   ``exp(+2πi ν t)`` with ``ν = (δ − carrier_ppm)·sfo1``, so the ppm axis
   ``carrier_ppm + f / sfo1_mhz`` increases with the index (figures draw it reversed).
   Processed spectra (``meta["processed"]``) are used as they are.
2. **Phase.**  The operator's stored phase (``meta["vendor_processing"]["phase_deg"]``)
   or, without one or with ``phase = "fit"``, zero- and first-order phase fitted to the
   phases of the peaks of the strongest increment (largest total power; see
   :func:`auto_phase`), then applied to every increment.  The 180° ambiguity is
   resolved by the kernels: the *reference* increment — longest recovery delay for T1
   dimensions, shortest echo time / b-value for decays — must integrate positive.
3. **Signal mask and baseline.**  A point is signal when the strongest increment exceeds
   ``signal_threshold`` noise sigmas (noise from first differences, robust to baseline);
   each run of signal points is widened by its own width on both sides; single-point
   spikes, the outer 2 % of the window (filter roll-off) and regions with less than 5 % of
   the largest region's area (DC spikes, artifacts) are ignored.  A ``constant`` or
   ``linear`` baseline is fitted per increment to the signal-free points and subtracted.
4. **Chemical-shift dimension** (``shift_mode``): ``points`` keeps the tight signal regions
   (:func:`signal_regions`: around each peak above ``min_peak_fraction`` of the highest,
   down to 1 % of its height) or the ``crop`` range as an identity dimension with a ppm axis
   that jumps between regions, summing neighbours within a region when more than
   ``max_shift_points`` remain; ``regions`` sums each ppm range; ``sum`` sums the cropped
   spectrum (the dimension disappears).
5. **Noise and scaling.**  The per-point noise sigma comes from high-order differences of
   the spectra away from the peaks with the exact noise gain of the window
   (:func:`difference_sigma`; ``auto``), the imaginary channel (``imaginary``) or a ppm
   range (``region``); a sum of ``m`` points has sigma ``sqrt(m)`` times larger without
   line broadening (:func:`sum_noise_factor` otherwise).  Data are divided by it: the
   problem has unit noise variance.
6. **Kernels and tau grids** from the axis roles and :attr:`Experiment.kind`; tau grids by
   :func:`nmrilt.solver.grids.tau_grid` (``extend_decades`` beyond the sampled range at each
   end, ``points_per_decade``), density lowered so that at most ``max_tau_points`` remain.

Every decision is recorded in :attr:`Problem.choices`.
"""

from __future__ import annotations

from ..model import Dimension, Problem
from .kinds import KERNEL_LABELS
from .noise import difference_sigma, robust_sigma, sum_noise_factor
from .phase import auto_phase, phase_shift
from .problem import process
from .regions import signal_mask, signal_regions
from .spectrum import auto_line_broadening, folded_points

__all__ = [
    "KERNEL_LABELS",
    "Dimension",
    "Problem",
    "auto_line_broadening",
    "auto_phase",
    "difference_sigma",
    "folded_points",
    "phase_shift",
    "process",
    "robust_sigma",
    "signal_mask",
    "signal_regions",
    "sum_noise_factor",
]
