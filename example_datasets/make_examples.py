"""Write nmrilt's small example experiments in the vendors' on-disk formats.

Run ``python example_datasets/make_examples.py`` (add ``--out DIR`` to write elsewhere).
It (re)creates, next to this script:

* ``bruker_t1ir_pseudo2d/``      t1ir, 11 delays (vdlist with mixed unit suffixes), pdata/1
* ``bruker_t2cpmg_pseudo2d/``    cpmg, 12 loop counts (vclist), echo period 2·D20 + P2
* ``bruker_t1t2_pseudo3d/``      t1ir_cpmg (IR × CPMG), 12 × 12 × 512 complex, AQSEQ 321
* ``bruker_diffusion_pseudo2d/`` ledbpgp2s, 16 gradients (difflist in G/cm)
* ``varian_t1_arrayed.fid/``     VnmrJ s2pul inversion recovery, array = 'd2'

and beside each ``<name>.truth.json`` with the true peaks (ppm, amplitude, T1/T2/D in SI
units), the expected indirect axes and the list entries as written.

Bruker folders: acqus/acqu2s/acqu3s written with ``nmrglue.bruker.write_jcamp`` as
TopSpin writes them (sorted ``##$`` keys, core header, ``$$`` comment lines), ``ser`` as
little-endian int32 with each FID padded to a 1024-byte block, and a digital filter
(DECIM/DSPFVS/GRPDLY): the simulated FIDs are delayed by GRPDLY points (frequency-domain
shift, the inverse of ``nmrglue.bruker.rm_dig_filter``) so that removing the filter gives
clean lines.  Signals are mono-exponential per peak; seeded Gaussian noise is added.

FID convention: ``s(t) = Σ a·exp(2πi·ν·t − t/T2*)`` with ``ν = (δ − carrier_ppm)·SFO1``,
so ``fftshift(fft(fid))`` runs from low to high ppm.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import nmrglue as ng
import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261125
GAMMA_1H_RAD_S_T = 267.5221874e6

BF1_MHZ = 400.13
CARRIER_PPM = 4.7
SW_PPM = 10.0
GRPDLY = 67.9842376708984
DECIM = 1664
DSPFVS = 20
LINEWIDTH_HZ = 8.0
DATE = 1764064800  # 2025-11-25 10:00 UTC

PEAKS = [
    {"ppm": 1.2, "amplitude": 1.0, "t1_s": 0.5, "t2_s": 0.08, "d_m2_s": 2.0e-9},
    {"ppm": 3.4, "amplitude": 0.7, "t1_s": 1.2, "t2_s": 0.3, "d_m2_s": 8.0e-10},
    {"ppm": 7.1, "amplitude": 0.5, "t1_s": 2.5, "t2_s": 1.0, "d_m2_s": 3.0e-10},
]
NOISE_REL = 2e-4  # noise std relative to the largest FID point


def _sfo1() -> float:
    return BF1_MHZ * (1 + CARRIER_PPM * 1e-6)


def _sw_hz() -> float:
    return SW_PPM * BF1_MHZ


def clean_fid(amplitudes: np.ndarray, n: int) -> np.ndarray:
    """FIDs (rows of ``amplitudes``: one amplitude per peak) without filter, shape (..., n)."""
    t = np.arange(n) / _sw_hz()
    nu = np.array([(p["ppm"] - CARRIER_PPM) * _sfo1() for p in PEAKS])
    basis = np.exp((2j * np.pi * nu[:, None] - np.pi * LINEWIDTH_HZ) * t[None, :])
    return amplitudes @ basis


def with_digital_filter(fids: np.ndarray) -> np.ndarray:
    """Delay FIDs by GRPDLY points: the exact inverse of nmrglue's fsh2 shift."""
    return ng.proc_base.fsh2(fids.astype(complex), -GRPDLY)


def _jcamp_header(path_hint: str) -> tuple[list[str], list[str]]:
    core = [
        "##TITLE= Parameter file, TopSpin 3.6.2",
        "##JCAMPDX= 5.0",
        "##DATATYPE= Parameter Values",
        "##NPOINTS= 2   $$ modified",
        "##ORIGIN= Bruker BioSpin GmbH",
        "##OWNER= nmrilt",
    ]
    comments = [
        "$$ 2025-11-25 10:00:00.000 +0000  nmrilt@av400",
        f"$$ /opt/topspin3.6.2/data/nmrilt/nmr/{path_hint}",
    ]
    return core, comments


def acqus_dict(td: int, pulprog: str, path_hint: str, **changes) -> dict:
    """A TopSpin-like acquisition parameter dictionary (direct dimension)."""
    core, comments = _jcamp_header(path_hint)
    d = [0.0] * 64
    d[1] = 3.0
    p = [0.0] * 64
    p[1], p[2] = 10.0, 20.0
    plw = [-1.0] * 64
    plw[1] = 15.5
    dic = {
        "_coreheader": core, "_comments": comments,
        "ACQT0": -2.0, "AMP": [100.0] * 32, "AQSEQ": 0, "AQ_mod": 3, "AUNM": "au_zg",
        "BF1": BF1_MHZ, "BF2": BF1_MHZ, "BF3": BF1_MHZ, "BF4": BF1_MHZ,
        "BYTORDA": 0, "CNST": [1.0] * 64, "CPDPRG": ["mlev"] * 8, "D": d, "DATE": DATE,
        "DE": 6.5, "DECIM": DECIM, "DIGMOD": 1, "DIGTYP": 12, "DQDMODE": 0, "DR": 22,
        "DS": 4, "DSPFIRM": 0, "DSPFVS": DSPFVS, "DTYPA": 0, "EXP": "", "FnMODE": 0,
        "FW": 125000.0, "GPNAM": ["sine.100"] * 32, "GPX": [0.0] * 32, "GPY": [0.0] * 32,
        "GPZ": [0.0] * 32, "GRDPROG": "", "GRPDLY": GRPDLY, "HPPRGN": 0, "IN": [0.001] * 64,
        "INP": [0.0] * 64, "INSTRUM": "av400", "L": [1] * 32, "LOCNUC": "2H", "NBL": 1,
        "NC": 0, "NS": 8, "NUC1": "1H", "NUC2": "off", "NUC3": "off", "NUC4": "off",
        "NUCLEUS": "off", "O1": CARRIER_PPM * BF1_MHZ, "O2": 0.0, "P": p,
        "PARMODE": 0, "PHCOR": [0.0] * 32, "PLW": plw, "PROBHD": "5 mm PABBO BB/",
        "PULPROG": pulprog, "QNP": 1, "RG": 101.0, "SFO1": _sfo1(), "SFO2": BF1_MHZ,
        "SOLVENT": "D2O", "SW": SW_PPM, "SW_h": _sw_hz(), "TD": td, "TD0": 1,
        "TD_INDIRECT": [0] * 8, "TE": 298.1, "VALIST": "", "VCLIST": "CCCCCCCCCCCCCCC",
        "VDLIST": "DDDDDDDDDDDDDDD", "VPLIST": "PPPPPPPPPPPPPPP", "VTLIST": "", "WBST": 1024,
    }
    dic.update(changes)
    return dic


def indirect_dict(td: int, pulprog: str, path_hint: str) -> dict:
    """acqu2s/acqu3s of a pseudo dimension (QF, TD = number of list entries)."""
    dic = acqus_dict(td, pulprog, path_hint, FnMODE=1, AQ_mod=0, NUC1="1H", SW=0.0025,
                     SW_h=1.0, SFO1=BF1_MHZ, O1=0.0, DECIM=1, DSPFVS=0, GRPDLY=-1.0)
    return dic


def ints(fids: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Add noise, scale to a realistic receiver range and round to int32 values."""
    noise = NOISE_REL * np.abs(fids).max()
    noisy = fids + noise * (rng.standard_normal(fids.shape) + 1j * rng.standard_normal(fids.shape))
    scale = 2.0**22 / np.abs(noisy).max()
    return np.round(noisy * scale), noise * scale


def write_ser(path: Path, fids: np.ndarray, td: int) -> None:
    """int32 little-endian, interleaved re/im, each FID padded to 1024 bytes."""
    rows = fids.reshape(-1, fids.shape[-1])
    padded = -(-td // 256) * 256
    raw = np.zeros((rows.shape[0], padded), dtype="<i4")
    raw[:, 0:td:2] = rows.real
    raw[:, 1:td:2] = rows.imag
    raw.tofile(path)


def write_bruker(folder: Path, acqu: dict[str, dict], fids: np.ndarray, pulseprogram: str,
                 lists: dict[str, str], title: str) -> None:
    folder.mkdir(parents=True)
    for name, dic in acqu.items():
        ng.bruker.write_jcamp(dic, str(folder / name), overwrite=True)
        ng.bruker.write_jcamp(dic, str(folder / name[:-1]), overwrite=True)
    write_ser(folder / ("ser" if fids.ndim > 1 else "fid"), fids, acqu["acqus"]["TD"])
    (folder / "pulseprogram").write_text(pulseprogram)
    for name, text in lists.items():
        (folder / name).write_text(text)
    (folder / "pdata" / "1").mkdir(parents=True)
    (folder / "pdata" / "1" / "title").write_text(title + "\n")


PP_HEADER = '# 1 "/opt/topspin3.6.2/exp/stan/nmr/lists/pp/{name}"\n;{name}\n;avance-version\n'

T1IR_PP = PP_HEADER.format(name="t1ir") + """;T1 measurement using inversion recovery
;$CLASS=HighRes
;$DIM=2D
;$TYPE=
;$SUBTYPE=
;$COMMENT=

"d11=30m"

1 ze
2 d1
  p2 ph1
  vd
  p1 ph2
  go=2 ph31
  d11 wr #0 if #0 ivd
  lo to 1 times td1
exit

ph1=0 2
ph2=0 0 2 2 1 1 3 3
ph31=0 0 2 2 1 1 3 3

;pl1 : f1 channel - power level for pulse (default)
;p1 : f1 channel -  90 degree high power pulse
;p2 : f1 channel - 180 degree high power pulse
;d1 : relaxation delay; 1-5 * T1
;d11: delay for disk I/O                             [30 msec]
;vd : variable delay, taken from vd-list
;ns: 8 * n
;ds: 4
;td1: number of experiments = number of delays in vd-list
;define VDLIST
"""

CPMG_PP = PP_HEADER.format(name="cpmg") + """;T2 measurement, Carr-Purcell-Meiboom-Gill
;$CLASS=HighRes
;$DIM=2D

"d11=30m"

1 ze
2 d1
  p1 ph1
3 d20
  p2 ph2
  d20
  lo to 3 times c
  go=2 ph31
  d11 wr #0 if #0 ivc
  lo to 1 times td1
exit

ph1=0 0 2 2 1 1 3 3
ph2=1 3 1 3 0 2 0 2
ph31=0 0 2 2 1 1 3 3

;p1 : f1 channel -  90 degree high power pulse
;p2 : f1 channel - 180 degree high power pulse
;d20: fixed echo time to allow elimination of diffusion and J-mod. effects
;vc : variable loop counter, taken from vc-list
;td1: number of experiments = number of values in vc-list
;define VCLIST
"""

T1IR_CPMG_PP = PP_HEADER.format(name="t1ir_cpmg") + """;T1-T2: IR (vd, F1) x CPMG (vc, F2)
;$CLASS=Relaxation
;$DIM=3D
;aqseq 321: F3 fastest, then F2 (vc, acqu2s), then F1 (vd, acqu3s)

aqseq 321
"d11=30m"

1 ze
2 d1
  p2 ph1
  vd
  p1 ph2
3 d20
  p2 ph3
  d20
  lo to 3 times c
  go=2 ph31
  d11 wr #0 if #0 zd
  1m ivc
  lo to 2 times td2
  1m ivd
  1m ru1
  lo to 2 times td1
exit

ph1=0 2
ph2=0 0 2 2 1 1 3 3
ph3=1 3 1 3 0 2 0 2
ph31=0 0 2 2 1 1 3 3

;d20: half echo period; echo time = vc * (2*d20 + p2)
;td1: number of vd-list entries, td2: number of vc-list entries
"""

LEDBPGP2S_PP = PP_HEADER.format(name="ledbpgp2s") + """;diffusion, stimulated echo + LED
;using bipolar gradient pulses for diffusion
;using 2 spoil gradients
;$CLASS=HighRes
;$DIM=2D
;$TYPE=
;$SUBTYPE=
;$COMMENT=

define list<gradient> diff=<Difframp>

"p2=p1*2"
"DELTA1=d20-p1*2-p2-p30*2-d16*3-p19*2"
"DELTA2=d21-p19-d16-4u"

1 ze
2 d1
  50u UNBLKGRAD
  p1 ph1
  p30:gp6*diff
  d16
  p2 ph2
  p30:gp6*-1*diff
  d16
  p1 ph3
  p19:gp7
  d16
  DELTA1
  p1 ph4
  p30:gp6*diff
  d16
  p2 ph5
  p30:gp6*-1*diff
  d16
  p1 ph6
  p19:gp8
  d16
  DELTA2
  4u BLKGRAD
  p1 ph7
  go=2 ph31
  d1 wr #0 if #0 zd igrad diff
  lo to 2 times td1
exit

ph1= 0
ph2= 1 1 3 3
ph3= 0 0 0 0 2 2 2 2
ph4= 0
ph5= 1 1 3 3
ph6= 0 0 0 0 2 2 2 2
ph7= 0
ph31=0 2 2 0 2 0 0 2

;p30: gradient pulse (little DELTA * 0.5)
;d16: delay for gradient recovery
;d20: diffusion time (big DELTA)
;d21: eddy current delay (Te)                        [5 ms]
;gpz6: 100%
;gpnam6: SMSQ10.100
;use AU-program dosy to calculate gradient-file Difframp
"""


def _truth(name: str, fmt: str, kind: str, axes: list[dict], lists: dict, extra: dict) -> dict:
    return {
        "name": name, "format": fmt, "kind": kind, "nucleus": "1H",
        "sfo1_mhz": _sfo1(), "bf1_mhz": BF1_MHZ, "carrier_ppm": CARRIER_PPM, "sw_hz": _sw_hz(),
        "linewidth_hz": LINEWIDTH_HZ, "peaks": PEAKS, "axes": axes, "lists": lists,
        "generator": "example_datasets/make_examples.py", "seed": SEED, **extra,
    }


def _amps(factors: np.ndarray) -> np.ndarray:
    """Per-row peak amplitudes: factors (rows, peaks) × amplitudes."""
    return factors * np.array([p["amplitude"] for p in PEAKS])


def make_t1ir(out: Path, rng: np.random.Generator) -> dict:
    name = "bruker_t1ir_pseudo2d"
    entries = ["10m", "25ms", "50m", "100m", "200m", "400ms", "800m", "1.6", "3.2s", "6.4",
               "12.8s"]
    text = "\n".join(entries) + "\n\n"
    scale = {"m": 1e-3, "ms": 1e-3, "s": 1.0, "": 1.0}
    vd = []
    for e in entries:
        num = e.rstrip("ms")
        vd.append(float(num) * scale[e[len(num):]])
    vd = np.array(vd)
    td = 2000
    t1 = np.array([p["t1_s"] for p in PEAKS])
    fids = clean_fid(_amps(1 - 2 * np.exp(-vd[:, None] / t1[None, :])), td // 2)
    raw, noise = ints(with_digital_filter(fids), rng)
    hint = f"{name}/1/acqus"
    acqu = {
        "acqus": acqus_dict(td, "t1ir", hint, VDLIST="nmrilt_t1", P=[0.0, 10.0, 20.0] + [0.0] * 61,
                            TD_INDIRECT=[0, len(vd), 0, 0, 0, 0, 0, 0]),
        "acqu2s": indirect_dict(len(vd), "t1ir", hint),
    }
    folder = out / name
    write_bruker(folder, acqu, raw, T1IR_PP, {"vdlist": text},
                 "T1 inversion recovery, 3 peaks (nmrilt example)")
    _write_pdata(folder, raw, td, len(vd))
    axes = [{"name": "vd", "role": "delay", "unit": "s", "values": vd.tolist()}]
    return _truth(name, "bruker", "t1_ir", axes, {"vdlist": entries},
                  {"noise_std_int": noise, "pdata_rows_stored": 16})


def _write_pdata(folder: Path, raw: np.ndarray, td: int, rows: int) -> None:
    """pdata/1/2rr: xf2 of the rows, SI(F2) = 1024, SI(F1) = 16 (rows beyond TD1 zero)."""
    si, si1 = 1024, 16
    fids = ng.bruker.rm_dig_filter(raw.astype(complex), DECIM, DSPFVS, GRPDLY, False)
    fids = fids.copy()
    fids[:, 0] *= 0.5
    spec = np.fft.fftshift(np.fft.fft(fids, n=si, axis=-1), axes=-1)[:, ::-1].real
    full = np.zeros((si1, si))
    full[:rows] = spec
    sw = _sw_hz()
    core, comments = _jcamp_header(f"{folder.name}/1/pdata/1/procs")
    offset = CARRIER_PPM + (si / 2 - 1) * sw / si / BF1_MHZ
    base = {"_coreheader": core, "_comments": comments, "BYTORDP": 0, "DTYPP": 0,
            "FT_mod": 6, "NC_proc": 0, "OFFSET": offset, "PHC0": 0.0, "PHC1": 0.0,
            "SF": BF1_MHZ, "SI": si, "STSI": si, "STSR": 0, "SW_p": sw, "WDW": 1, "LB": 0.3,
            "XDIM": si, "PPARMOD": 1, "TDeff": 0, "REVERSE": False, "MC2": 0, "AXNUC": "1H"}
    proc2 = dict(base, SI=si1, STSI=si1, XDIM=si1, FT_mod=0, SW_p=1.0, SF=BF1_MHZ,
                 OFFSET=0.0, AXNUC="1H")
    scaled = full / np.abs(full).max() * 2**28
    dic = {"procs": base, "proc2s": proc2}
    ng.bruker.write_pdata(str(folder), dic, scaled, write_procs=True, pdata_folder=1,
                          overwrite=True, big=False, isfloat=False)


def make_cpmg(out: Path, rng: np.random.Generator) -> dict:
    name = "bruker_t2cpmg_pseudo2d"
    vc = np.array([2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3072])
    d20, p2 = 0.5e-3, 20.0
    echo = vc * (2 * d20 + p2 * 1e-6)
    td = 2000
    t2 = np.array([p["t2_s"] for p in PEAKS])
    fids = clean_fid(_amps(np.exp(-echo[:, None] / t2[None, :])), td // 2)
    raw, noise = ints(with_digital_filter(fids), rng)
    d = [0.0] * 64
    d[1], d[11], d[20] = 5.0, 0.03, d20
    hint = f"{name}/1/acqus"
    acqu = {
        "acqus": acqus_dict(td, "cpmg", hint, D=d, P=[0.0, 10.0, p2] + [0.0] * 61,
                            VCLIST="nmrilt_t2"),
        "acqu2s": indirect_dict(len(vc), "cpmg", hint),
    }
    text = "# loop counters for cpmg (nmrilt example)\n" + "\n".join(map(str, vc)) + "\n"
    write_bruker(out / name, acqu, raw, CPMG_PP, {"vclist": text},
                 "T2 CPMG, 3 peaks (nmrilt example)")
    axes = [{"name": "echo_time", "role": "echo", "unit": "s", "values": echo.tolist()}]
    return _truth(name, "bruker", "t2_cpmg", axes, {"vclist": vc.tolist()},
                  {"noise_std_int": noise, "d20_s": d20, "p2_us": p2})


def make_t1t2(out: Path, rng: np.random.Generator) -> dict:
    name = "bruker_t1t2_pseudo3d"
    vd_entries = ["5m", "12ms", "30m", "70m", "150m", "300ms", "600m", "1.2", "2.4s", "4.8",
                  "9.6s", "15"]
    vd = np.array([1e-3 * float(e.rstrip("ms")) if e.endswith("m") or e.endswith("ms")
                   else float(e.rstrip("s")) for e in vd_entries])
    vc = np.array([2, 6, 12, 24, 48, 96, 160, 256, 400, 640, 1024, 2048])
    d20, p2 = 0.4e-3, 20.0
    echo = vc * (2 * d20 + p2 * 1e-6)
    td = 1024
    t1 = np.array([p["t1_s"] for p in PEAKS])
    t2 = np.array([p["t2_s"] for p in PEAKS])
    factor = (1 - 2 * np.exp(-vd[:, None, None] / t1)) * np.exp(-echo[None, :, None] / t2)
    amps = _amps(factor.reshape(-1, len(PEAKS)))
    fids = clean_fid(amps, td // 2).reshape(len(vd), len(vc), td // 2)
    raw, noise = ints(with_digital_filter(fids), rng)
    d = [0.0] * 64
    d[1], d[11], d[20] = 5.0, 0.03, d20
    hint = f"{name}/1/acqus"
    acqu = {
        "acqus": acqus_dict(td, "t1ir_cpmg", hint, D=d, P=[0.0, 10.0, p2] + [0.0] * 61,
                            VDLIST="nmrilt_t1t2_vd", VCLIST="nmrilt_t1t2_vc", AQSEQ=0,
                            TD_INDIRECT=[0, len(vc), len(vd), 0, 0, 0, 0, 0]),
        "acqu2s": indirect_dict(len(vc), "t1ir_cpmg", hint),
        "acqu3s": indirect_dict(len(vd), "t1ir_cpmg", hint),
    }
    lists = {"vdlist": "\n".join(vd_entries) + "\n",
             "vclist": "\n".join(map(str, vc)) + "\n"}
    write_bruker(out / name, acqu, raw, T1IR_CPMG_PP, lists,
                 "T1-T2 pseudo-3D IR x CPMG, 3 peaks (nmrilt example)")
    axes = [{"name": "vd", "role": "delay", "unit": "s", "values": vd.tolist()},
            {"name": "echo_time", "role": "echo", "unit": "s", "values": echo.tolist()}]
    return _truth(name, "bruker", "t1_t2", axes, {"vdlist": vd_entries, "vclist": vc.tolist()},
                  {"noise_std_int": noise, "d20_s": d20, "p2_us": p2, "aqseq": "321"})


def make_diffusion(out: Path, rng: np.random.Generator) -> dict:
    name = "bruker_diffusion_pseudo2d"
    gmax = 53.5  # G/cm at 100 %
    frac = np.sqrt(np.linspace(0.02**2, 0.95**2, 16))
    g_gcm = np.round(frac * gmax, 4)
    big_delta, p30 = 0.2, 1000.0
    small_delta = 2 * p30 * 1e-6
    g = g_gcm * 1e-2
    b = (GAMMA_1H_RAD_S_T * g * small_delta) ** 2 * (big_delta - small_delta / 3)
    td = 2048
    dcoef = np.array([p["d_m2_s"] for p in PEAKS])
    fids = clean_fid(_amps(np.exp(-b[:, None] * dcoef[None, :])), td // 2)
    raw, noise = ints(with_digital_filter(fids), rng)
    d = [0.0] * 64
    d[1], d[16], d[20], d[21] = 3.0, 2e-4, big_delta, 5e-3
    p = [0.0] * 64
    p[1], p[2], p[19], p[30] = 10.0, 20.0, 1100.0, p30
    gpz = [0.0] * 32
    gpz[6], gpz[7], gpz[8] = 100.0, -17.13, -13.17
    hint = f"{name}/1/acqus"
    acqu = {
        "acqus": acqus_dict(td, "ledbpgp2s", hint, D=d, P=p, GPZ=gpz),
        "acqu2s": indirect_dict(len(g_gcm), "ledbpgp2s", hint),
    }
    text = "\n".join(f"{v:.4f}" for v in g_gcm) + "\n\n"
    write_bruker(out / name, acqu, raw, LEDBPGP2S_PP, {"difflist": text},
                 "Diffusion ledbpgp2s, DELTA = 200 ms, delta = 2 ms (nmrilt example)")
    axes = [{"name": "b", "role": "b_value", "unit": "s/m^2", "values": b.tolist()}]
    return _truth(name, "bruker", "diffusion", axes, {"difflist_g_per_cm": g_gcm.tolist()},
                  {"noise_std_int": noise, "big_delta_s": big_delta,
                   "little_delta_s": small_delta, "gamma_rad_s_t": GAMMA_1H_RAD_S_T})


def _param(name: str, values: list, string: bool = False, subtype: str = "1") -> dict:
    dic = ng.varian.create_pdic_param(name, [str(v) for v in values])
    dic.update(basictype="2" if string else "1", subtype="2" if string else subtype,
               maxvalue="1e+18", minvalue="-1e+18", Ggroup="2", Dgroup="1")
    return dic


def make_varian(out: Path, rng: np.random.Generator) -> dict:
    name = "varian_t1_arrayed.fid"
    d2 = np.array([0.01, 0.03, 0.06, 0.12, 0.25, 0.5, 0.9, 1.5, 2.5, 4.0, 7.0, 12.0])
    n = 1000
    t1 = np.array([pk["t1_s"] for pk in PEAKS])
    fids = clean_fid(_amps(1 - 2 * np.exp(-d2[:, None] / t1[None, :])), n)
    noise_std = NOISE_REL * np.abs(fids).max()
    fids = fids + noise_std * (rng.standard_normal(fids.shape)
                               + 1j * rng.standard_normal(fids.shape))
    fids = (fids * 1e6).astype(np.complex64)
    udic = {"ndim": 2, 0: {"size": len(d2), "complex": False},
            1: {"size": n, "complex": True}}
    dic = ng.varian.create_dic(udic)
    sfrq = _sfo1()
    pp = {
        "seqfil": _param("seqfil", ["s2pul"], True),
        "pslabel": _param("pslabel", ["INVREC"], True),
        "tn": _param("tn", ["H1"], True),
        "dn": _param("dn", ["C13"], True),
        "solvent": _param("solvent", ["D2O"], True),
        "array": _param("array", ["d2"], True),
        "arraydim": _param("arraydim", [len(d2)], subtype="7"),
        "d2": _param("d2", list(d2), subtype="3"),
        "d1": _param("d1", [20.0], subtype="3"),
        "pw": _param("pw", [7.5], subtype="6"),
        "p1": _param("p1", [15.0], subtype="6"),
        "nt": _param("nt", [8], subtype="7"),
        "np": _param("np", [2 * n], subtype="7"),
        "ni": _param("ni", [1], subtype="7"),
        "sw": _param("sw", [_sw_hz()]),
        "at": _param("at", [n / _sw_hz()], subtype="3"),
        "sfrq": _param("sfrq", [sfrq], subtype="5"),
        "reffrq": _param("reffrq", [BF1_MHZ], subtype="5"),
        "tof": _param("tof", [0.0], subtype="5"),
        "temp": _param("temp", [25.0]),
        "date": _param("date", ["Nov 25 2025"], True),
        "time_run": _param("time_run", ["20251125T100000"], True),
        "gain": _param("gain", [30]),
    }
    dic["procpar"] = pp
    folder = out / name
    folder.mkdir(parents=True)
    ng.varian.write(str(folder), dic, fids, overwrite=True)
    (folder / "text").write_text("Inversion recovery T1, 3 peaks (nmrilt example)\n")
    (folder / "log").write_text("Tue Nov 25 10:00:00 2025: Acquisition started\n"
                                "Tue Nov 25 10:40:00 2025: Acquisition complete\n")
    axes = [{"name": "d2", "role": "delay", "unit": "s", "values": d2.tolist()}]
    truth = _truth(name, "varian", "t1_ir", axes, {"array": "d2", "d2": d2.tolist()},
                   {"noise_std": float(noise_std * 1e6)})
    return truth


#: (folder name, maker) in the order they are written (one shared random stream).
MAKERS = (
    ("bruker_t1ir_pseudo2d", make_t1ir),
    ("bruker_t2cpmg_pseudo2d", make_cpmg),
    ("bruker_t1t2_pseudo3d", make_t1t2),
    ("bruker_diffusion_pseudo2d", make_diffusion),
    ("varian_t1_arrayed.fid", make_varian),
)


def main(argv: list[str] | None = None) -> int:
    """Write every example folder and its truth file; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write into")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    for stem, maker in MAKERS:
        if (args.out / stem).exists():
            shutil.rmtree(args.out / stem)  # rewrite from scratch: reproducible output
        truth = maker(args.out, rng)
        (args.out / f"{stem}.truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
