"""The orchestration: Experiment -> Problem, step by step (see :mod:`nmrilt.processing`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ProcessingSettings, Settings, with_processing
from ..errors import ProcessingError
from ..model import Dimension, Problem
from ..readers import Experiment
from ..runs import true_runs
from .detection import DETECTION_SCALES, detect_regions, kernel_basis, wide_mask
from .kinds import KERNEL_LABELS, choose_kernels, tau_grid_for
from .noise import MAD_TO_SIGMA, estimate_noise, sum_noise_factor
from .noise_model import fit_noise_model
from .phase import phase_spectra
from .regions import signal_mask, subtract_baseline
from .shift import shift_dimension
from .spectrum import spectrum

log = logging.getLogger(__name__)

_SPECTRAL_ROLES = ("direct", "chemical_shift")
#: A baseline is fitted only with at least this many signal-free points.
MIN_BASELINE_POINTS = 8


def from_spectra(
    exp: Experiment, s: ProcessingSettings, indirect: tuple, kernels: list[str], choices: dict
) -> tuple[np.ndarray, Dimension | None, np.ndarray, float, tuple[np.ndarray, np.ndarray]]:
    """Steps 1-5 for FIDs or spectra: (data, chemical-shift dimension, scale, sigma,
    (ppm, phased real spectrum of the strongest increment))."""
    spec, ppm, window = spectrum(exp, s, choices)
    if exp.axes[-1].role == "chemical_shift" and not np.any(spec.imag):
        phased = spec
        choices["phase"] = {"method": "none (processed spectra)"}
    else:
        phased = phase_spectra(spec, s, choices, indirect, kernels,
                               exp.meta.get("vendor_processing"))
    raw = np.ascontiguousarray(phased.real)
    n = raw.shape[-1]
    rows = raw.reshape(-1, n)
    strongest = int(np.argmax(np.sum(rows**2, axis=1)))
    reference = (np.asarray(ppm, float), rows[strongest].copy())
    threshold = float(s.signal_threshold)
    # first pass: single points of the strongest row (robust, may miss weak broad signal)
    mask = signal_mask(rows[strongest], threshold)
    real, sigma1, how = _baseline_and_noise(raw, phased, ppm, mask, s, window, exp.source)
    # second pass: regions on all the evidence (detection.py); baseline and noise again
    # away from them, then the final regions with the final noise
    basis = _kernel_basis(indirect, kernels, s)
    regions = detect_regions(real.reshape(-1, n), sigma1, threshold, window, basis=basis)
    mask = mask | wide_mask(regions, n)
    real, sigma1, how = _baseline_and_noise(raw, phased, ppm, mask, s, window, exp.source)
    regions = detect_regions(real.reshape(-1, n), sigma1, threshold, window, basis=basis)
    regions = _above_fraction(regions, real.reshape(-1, n)[strongest], float(s.min_peak_fraction))
    mask = mask | wide_mask(regions, n)
    choices["signal_ppm"] = [
        [round(float(ppm[a]), 4), round(float(ppm[b - 1]), 4)] for a, b in true_runs(mask)
    ]
    choices["baseline"] = s.baseline
    choices["noise"] = {"method": how, "sigma_per_point": sigma1}
    choices["detection"] = (
        f"absolute SNR: {threshold:g}-sigma test of {'/'.join(map(str, DETECTION_SCALES))}"
        "-point sums over all increments (largest increment left out), "
        f"{len(regions)} region(s)"
    )
    data, axis_ppm, counts = shift_dimension(real, ppm, mask, regions, s, choices)
    scale = sigma1 * sum_noise_factor(window, counts)
    if axis_ppm is not None and axis_ppm.size > 1:
        name = "region" if s.shift_mode == "regions" else "shift"
        dim = Dimension(name, "ppm", "chemical_shift", "identity", "δ", "ppm", axis_ppm)
        return data, dim, scale.reshape((1,) * len(indirect) + (-1,)), sigma1, reference
    if axis_ppm is not None:
        data = data[..., 0]
    return data, None, np.asarray(float(scale.ravel()[0])), sigma1, reference


def _baseline_and_noise(
    raw: np.ndarray, phased: np.ndarray, ppm: np.ndarray, mask: np.ndarray,
    s: ProcessingSettings, window: np.ndarray | None, source: object = "",
) -> tuple[np.ndarray, float, str]:
    """Baseline subtracted away from ``mask``; the noise sigma of one point and its method."""
    n = raw.shape[-1]
    free = ~mask
    real = raw
    if s.baseline != "none" and free.sum() >= MIN_BASELINE_POINTS:
        order = 0 if s.baseline == "constant" else 1
        real = subtract_baseline(raw.reshape(-1, n), free, order).reshape(raw.shape)
    if s.noise_sigma > 0:
        return real, float(s.noise_sigma), "given (processing.noise_sigma)"
    sigma1, how = estimate_noise(phased, real, ppm, free, s, window)
    if not np.isfinite(sigma1) or sigma1 <= 0:
        raise ProcessingError(f"{source}: noise estimate is {sigma1}; data may be empty")
    return real, sigma1, how


def _kernel_basis(indirect: tuple, kernels: list[str], s: ProcessingSettings):
    """Kernel subspace of the increments for the local noise test (None: not testable)."""
    from ..solver.kernels import resolve_kernel

    mats = []
    for ax, k in zip(indirect, kernels):
        t = np.asarray(ax.values, float)
        if k == "identity":
            mats.append(np.eye(t.size))
            continue
        tau, _ = tau_grid_for(t, k, s)
        mats.append(resolve_kernel(k).matrix(t, tau))
    return kernel_basis(mats)


def _apply_noise_model(
    data: np.ndarray, scale: np.ndarray, dims: list[Dimension], t: list[np.ndarray],
    taus: list[np.ndarray], s: ProcessingSettings, choices: dict,
) -> np.ndarray:
    """``scale`` times the per-column factors of the real-data noise model
    (:mod:`nmrilt.processing.noise_model`; one inverted dimension first, then at most a
    chemical-shift axis)."""
    from ..solver.kernels import resolve_kernel

    inverted = [i for i, d in enumerate(dims) if d.kernel != "identity"]
    if s.noise_model != "auto" or s.noise_sigma > 0:
        choices["noise_model"] = {"applied": False, "why": f"processing.noise_model = {s.noise_model!r}"
                                  if s.noise_model != "auto" else "noise_sigma given"}
        return scale
    if inverted != [0] or data.ndim > 2:
        choices["noise_model"] = {"applied": False,
                                  "why": "estimated for one inverted dimension (+ shift) only"}
        return scale
    y = (data / scale).reshape(data.shape[0], -1)
    factors, info = fit_noise_model(y, np.asarray(t[0], float), np.asarray(taus[0], float),
                                    resolve_kernel(dims[0].kernel).matrix)
    choices["noise_model"] = info
    if not info.get("applied"):
        return scale
    log.info("noise model: thermal x %.3g, epsilon %.3g", info["thermal_factor"], info["epsilon"])
    return scale * factors.reshape((1,) * (data.ndim - 1) + (-1,)) if data.ndim > 1 else scale * factors[0]


def _above_fraction(
    regions: list[tuple[int, int]], row: np.ndarray, fraction: float
) -> list[tuple[int, int]]:
    """Regions whose peak reaches ``fraction`` of the highest (``min_peak_fraction``; 0: all)."""
    if fraction <= 0 or not regions:
        return regions
    peaks = np.array([np.abs(row[a:b]).max() for a, b in regions])
    return [r for r, p in zip(regions, peaks) if p >= fraction * peaks.max()]


def from_intensities(exp: Experiment, s: ProcessingSettings, choices: dict) -> tuple:
    """Data without a spectral axis (intensity tables): (data, scale, sigma)."""
    data = np.asarray(exp.data)
    if np.iscomplexobj(data):
        data = data.real
    if s.noise_sigma > 0:
        sigma1, how = float(s.noise_sigma), "given (processing.noise_sigma)"
    else:
        # second differences remove the smooth decay; std of d2 is sqrt(6) sigma
        d2 = np.diff(data.reshape(-1, data.shape[-1]), n=2, axis=-1).ravel()
        sigma1 = float(MAD_TO_SIGMA * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))
        how = "second differences (MAD); give processing.noise_sigma if known"
    if not np.isfinite(sigma1) or sigma1 <= 0:
        raise ProcessingError(
            f"{exp.source}: cannot estimate the noise of these intensities (too few points "
            "or noise-free); set processing.noise_sigma"
        )
    choices["noise"] = {"method": how, "sigma_per_point": sigma1}
    return data, np.asarray(sigma1), sigma1


def process(
    exp: Experiment,
    settings: Settings | ProcessingSettings | None = None,
    **overrides: Any,
) -> Problem:
    """Turn an experiment into an inversion problem (see the module docstring).

    Parameters
    ----------
    exp : Experiment
        What a reader returned.
    settings : Settings or ProcessingSettings, optional
        From :func:`nmrilt.config.load_settings` (the pipeline passes it down once);
        default: the processing defaults.
    **overrides
        Processing keys, e.g. ``shift_mode="sum"`` (validated; a ConfigError names a
        misspelled key).

    Returns
    -------
    Problem

    Raises
    ------
    ProcessingError
        If the experiment cannot be inverted with these settings (the message says why
        and which setting to change).
    """
    base = settings.processing if isinstance(settings, Settings) else settings
    s = with_processing(base, **overrides)
    choices: dict[str, Any] = {}
    spectral = exp.axes[-1].role in _SPECTRAL_ROLES
    indirect = exp.axes[:-1] if spectral else exp.axes
    if not indirect:
        raise ProcessingError(
            f"{exp.source} has no indirect dimension (a 1D spectrum): there is nothing to invert"
        )
    kernels = choose_kernels(exp, indirect, list(s.kernels))
    if all(k == "identity" for k in kernels):
        raise ProcessingError(
            f"{exp.source}: no dimension to invert (axes "
            f"{[(a.name, a.role) for a in indirect]}); if one holds delays, echo times or "
            "b-values, set kind (--kind) or processing.kernels"
        )
    dims: list[Dimension] = []
    for ax, k in zip(indirect, kernels):
        name, unit = KERNEL_LABELS.get(k, (ax.name, ax.unit))
        dims.append(Dimension(name, unit, ax.role, k, ax.name, ax.unit))
    t = [np.asarray(ax.values, float) for ax in indirect]
    if spectral:
        data, shift_dim, scale, sigma1, reference = from_spectra(exp, s, indirect, kernels, choices)
        if shift_dim is not None:
            dims.append(shift_dim)
            t.append(shift_dim.ppm)
    else:
        data, scale, sigma1 = from_intensities(exp, s, choices)
        reference = None
    taus, grids = [], []
    n_inverted = sum(d.kernel != "identity" for d in dims)
    for d, ti in zip(dims, t):
        tau, info = tau_grid_for(ti, d.kernel, s, n_inverted)
        taus.append(tau)
        grids.append({"dimension": d.name, "kernel": d.kernel, **info})
    choices["kernels"] = list(kernels) + (["identity"] * (len(dims) - len(kernels)))
    choices["tau_grids"] = grids
    choices["tau_rule"] = (
        "nmrilt.solver.grids.tau_grid: sampled range (1/b for diffusion) widened by "
        "extend_decades at each end, points_per_decade, density lowered to at most max_tau_points"
    )
    if spectral:
        scale = _apply_noise_model(np.asarray(data, float), np.asarray(scale, float), dims,
                                   t, taus, s, choices)
    meta = {k: v for k, v in exp.meta.items() if k != "raw"}
    scaled = np.asarray(data, float) / scale
    log.info("processed %s: data %s, noise sigma %.4g", exp.source, scaled.shape, sigma1)
    return Problem(
        data=scaled, t=tuple(t), tau=tuple(taus), kernels=tuple(d.kernel for d in dims),
        dims=tuple(dims), sigma=float(sigma1), scale=np.asarray(scale, float),
        choices=choices, source=Path(exp.source), kind=exp.kind, files=tuple(exp.files),
        meta=meta, spectrum=reference,
    )
