"""Synthetic experiments and small results for the pipeline tests (no reader involved)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from nmrilt.readers import Axis, Experiment

from nmrilt.model import Dimension, Result
from nmrilt.solver import Inversion

SW_HZ = 4000.0
SFO1_MHZ = 400.0
CARRIER_PPM = 4.0


def fids(
    amplitudes: np.ndarray,
    ppms: list[float],
    n: int = 1024,
    linewidth_hz: float = 4.0,
    p0_deg: float = 0.0,
    p1_deg: float = 0.0,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """FIDs (..., n) following the Experiment contract: exp(+2πiνt), ν = (δ − carrier)·sfo1.

    ``amplitudes`` has shape (..., len(ppms)).  A phase error (p0 + p1 k/n, degrees) is
    imposed on the spectrum, so that ``phase_shift(spec, p0, p1)`` corrects it.
    """
    t = np.arange(n) / SW_HZ
    nu = (np.asarray(ppms) - CARRIER_PPM) * SFO1_MHZ
    basis = np.exp((2j * np.pi * nu[:, None] - np.pi * linewidth_hz) * t[None, :])
    fid = np.asarray(amplitudes, float) @ basis
    if p0_deg or p1_deg:
        half = fid.copy()
        half[..., 0] *= 0.5
        spec = np.fft.fftshift(np.fft.fft(half, axis=-1), axes=-1)
        spec *= np.exp(-1j * np.deg2rad(p0_deg + p1_deg * np.arange(n) / n))
        fid = np.fft.ifft(np.fft.ifftshift(spec, axes=-1), axis=-1)
        fid[..., 0] *= 2.0
    rng = np.random.default_rng(seed)
    return fid + noise * (rng.standard_normal(fid.shape) + 1j * rng.standard_normal(fid.shape))


def experiment(data: np.ndarray, indirect: list[Axis], kind: str, source: str = "/synthetic",
               n: int | None = None) -> Experiment:
    """Wrap FIDs into an Experiment with a direct time axis."""
    n = data.shape[-1] if n is None else n
    axes = tuple(indirect) + (Axis("time", np.arange(n) / SW_HZ, "s", "direct"),)
    meta = {"sw_hz": SW_HZ, "sfo1_mhz": SFO1_MHZ, "carrier_ppm": CARRIER_PPM,
            "pulse_program": "synthetic", "nucleus": "1H", "processed": False}
    return Experiment(data, axes, meta, Path(source), kind, ())


def ir_experiment(t1s=(0.2, 1.5), ppms=(2.0, 6.0), amps=(1.0, 0.6), noise=0.05, **kw):
    """Pseudo-2D inversion recovery with one T1 per peak."""
    vd = np.geomspace(0.005, 10.0, 14)
    a = np.array(amps) * (1 - 2 * np.exp(-vd[:, None] / np.array(t1s)[None, :]))
    data = fids(a, list(ppms), noise=noise, **kw)
    return experiment(data, [Axis("vd", vd, "s", "delay")], "t1_ir")


def small_result(kind: str = "2d", signed: bool = True) -> Result:
    """A hand-made result (Gaussian blobs) for results/plotting tests."""
    rng = np.random.default_rng(1)
    t1 = np.geomspace(1e-3, 10, 20)
    t2 = np.geomspace(1e-3, 1, 18)
    lt1, lt2 = np.log10(t1), np.log10(t2)
    dims = [Dimension("T1", "s", "delay", "inversion_recovery", "vd", "s"),
            Dimension("T2", "s", "echo", "exponential", "echo_time", "s")]
    blob = np.exp(-((lt1[:, None] + 1) ** 2 + (lt2[None, :] + 2) ** 2) / 0.05)
    neg = np.exp(-((lt1[:, None] - 0.5) ** 2 + (lt2[None, :] + 0.5) ** 2) / 0.05)
    g2 = 3 * blob - (1.5 if signed else -1.5) * neg
    vd, te = np.geomspace(0.01, 5, 8), np.geomspace(0.002, 0.5, 9)
    if kind == "1d":
        g, dims, t, tau = g2.sum(axis=1), dims[:1], (vd,), (t1,)
    elif kind == "2d":
        g, t, tau = g2, (vd, te), (t1, t2)
    elif kind in ("pseudo2d", "pseudo2d_many"):
        ppm = np.linspace(1, 8, 16)
        if kind == "pseudo2d_many":  # nine signal regions of 1-12 points, gaps between
            ppm = np.concatenate([c + 0.01 * np.arange(n) for c, n in zip(
                [0.9, 1.5, 2.0, 3.1, 4.0, 5.2, 6.0, 7.1, 7.9], [4, 1, 12, 3, 2, 8, 5, 2, 6])])
        shape = np.exp(-((ppm - 2) ** 2) / 0.2) - (0.5 if signed else -0.5) * np.exp(
            -((ppm - 6) ** 2) / 0.2)
        g = g2.sum(axis=1)[:, None] * shape[None, :]
        dims = dims[:1] + [Dimension("shift", "ppm", "chemical_shift", "identity", "δ", "ppm",
                                     ppm)]
        t, tau = (vd, ppm), (t1, ppm)
    else:  # pseudo3d
        ppm = np.linspace(1, 8, 12)
        shape = np.exp(-((ppm - 2) ** 2) / 0.3)
        shape2 = np.exp(-((ppm - 6) ** 2) / 0.3)
        g = 3 * blob[..., None] * shape - 1.5 * neg[..., None] * shape2
        dims = dims + [Dimension("shift", "ppm", "chemical_shift", "identity", "δ", "ppm", ppm)]
        t, tau = (vd, te, ppm), (t1, t2, ppm)
    data_shape = tuple(len(x) for x in t)
    data = rng.standard_normal(data_shape)
    inversion = Inversion(
        g=np.asarray(g, float), fit=np.zeros(data_shape), residuals=data, data=data,
        t=t, tau=tau, kernels=tuple(d.kernel for d in dims), iterations=3, converged=True,
        message="ok", convergence=np.array([1.0, 0.1, 0.01]), baseline=None,
        options={"alpha_00": 1.0}, elapsed_s=0.1, stats={"alpha_00_used": 0.5},
    )
    return Result(
        inversion=inversion, dims=tuple(dims), scale=np.asarray(2.0), sigma=2.0,
        parameters={"settings": {"output": {"formats": ["png"]}}, "choices": {"x": 1}},
        source="/data/exp/5", kind="t1_t2", created="2026-01-01T00:00:00+00:00",
        checksums={"ser": "0" * 64},
    )


def tree_digest(root: Path) -> dict[str, str]:
    """SHA-256 of every file below ``root`` (relative names), skipping nmrilt outputs."""
    out = {}
    for p in sorted(Path(root).rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and "nmrilt" not in rel.parts and not rel.name.startswith(".nmrilt"):
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def result_of(g, fit, residuals, data, t, tau, dims, scale, sigma, **fields) -> Result:
    """A Result over a converged Inversion with the given arrays (other fields: ``fields``)."""
    inversion = Inversion(
        g=g, fit=fit, residuals=residuals, data=data, t=t, tau=tau,
        kernels=tuple(d.kernel for d in dims), iterations=1, converged=True, message="ok",
        convergence=np.zeros(1), baseline=None, options={}, elapsed_s=0.0,
    )
    return Result(inversion=inversion, dims=dims, scale=scale, sigma=sigma, **fields)
