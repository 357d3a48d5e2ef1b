"""Pulse-program inference: relations, vclist loops and ``;@`` diffusion annotations.

Unit tests on small synthetic pulse-program texts, then the two real local programs in
../shared/datasets (skipped when absent): PROJECT T2 (4 ms per vclist count) and the
annotated 15N-XSTE diffusion (gradients checked against its own difflist).
"""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from conftest import SHARED_DATASETS, copy_example, shared_dataset
from nmrilt.readers import pulseprogram as pp
from nmrilt.readers.bruker_params import read_parameters
from pipeline_helpers import small_result

import nmrilt
from nmrilt.errors import ReadError
from nmrilt.output.report import report_text

#: acqus values of the synthetic programs: D in s, P in µs (as TopSpin stores them).
ACQUS = {"D": [0.0, 2.0, 0.001, 0.0, 0.0, 0.0005, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0002,
               0.0, 0, 0, 0.1],
         "P": [0, 10.0, 20.0] + [0.0] * 27 + [1000.0, 0.0],
         "CNST": [1.0, 0.02, 0.98], "GPZ": [0] * 6 + [80.0], "NUC1": "1H", "NUC3": "15N",
         "GPNAM": ["<>"] * 6 + ["<SINE.100>"]}

PROJECT = '''; a PROJECT-like T2 block
define list<loopcounter> vclist = <$VCLIST>
"p2=p1*2"
"d2=1m"
"d3=4*d2"  ; T2 time per loop
"DELTA1=d2-p1"
"DELTA2=d2-1.5*p1"
1 ze
2 30m
  d1
  p1 ph1
3 DELTA1
  p2 ph2
  DELTA2
  (p1 ph3):f1
  DELTA2
  (center (p2 ph2):f1 (p22 ph4):f3)
  DELTA1
  lo to 3 times vclist
  go=2 ph31
  30m wr #0 if #0 zd ivc
  lo to 2 times td1
exit
'''

XSTE = '''# 1 "/home/someone/pp/ste.cw"
;@ schema_version: "0.0.2"
;@ title: an annotated stimulated echo
;@ description: |
;@   free text: big_delta d99 here is only prose
;@ authors:
;@   - Someone <a@b.c>
;@ reference_pulse:
;@ - {channel: f1, duration: p1, power: pl1}
;@ diffusion:
;@   type: bipolar
;@   coherence: [f1, 1]
;@   big_delta: d20
;@   little_delta: p31
;@   tau: d17
;@   gradient_strength: {type: linear, start: cnst1, end: cnst2, scale: gpz6}
;@   gradient_shape: gpnam6

"p31=p30*2"
"d17=p30+d16+p2"
1 ze
2 d1
  p30:gp6*diff
  d20
  go=2 ph31
  d11 wr #0 if #0 zd igrad diff
  lo to 2 times td1
exit
'''


def parsed(text: str) -> pp.PulseProgram:
    return pp.parse(text, "synthetic/pulseprogram")


# --- relations --------------------------------------------------------------------------

def test_relations_are_evaluated_in_order_with_units_and_functions():
    prog = parsed('"d4=2.77m-p1-d16-larger(p2,p1)"\n"p2=p1*2"\n"d5=2*d4+30u"\n'
                  '"cnst9=1s/(4*cnst1)"\n')
    ev = pp.Evaluator(prog, ACQUS)
    # d4 uses p2 before the relation "p2=p1*2" is met: acqus P[2] = 20 µs, as TopSpin
    d4 = 2.77e-3 - 10e-6 - 0.0002 - 20e-6
    assert ev.name("d4") == pytest.approx(d4, rel=1e-12)
    assert ev.name("p2") == pytest.approx(20e-6, rel=1e-12)
    assert ev.name("d5") == pytest.approx(2 * d4 + 30e-6, rel=1e-12)
    assert ev.name("cnst9") == pytest.approx(1 / (4 * 0.02), rel=1e-12)
    assert ev.name("D20") == 0.1  # names are case-insensitive


def test_a_relation_that_cannot_be_evaluated_fails_only_when_used():
    prog = parsed('"l2=td1-1"\n"d3=4*d2"\n"d6=open(1)"\n')
    ev = pp.Evaluator(prog, ACQUS)
    assert ev.name("d3") == pytest.approx(0.004)
    with pytest.raises(pp.PulseProgramError, match="'td1' has no value"):
        ev.name("l2")
    with pytest.raises(pp.PulseProgramError, match="does not evaluate"):
        ev.name("d6")


# --- loops --------------------------------------------------------------------------------

def test_vclist_loop_duration_sums_the_body():
    seconds, note = pp.vclist_loop_duration(parsed(PROJECT), ACQUS)
    # body: 2 DELTA1 + 2 DELTA2 + p2 + p1 + max(p2, p22) = 4 d2 exactly
    assert seconds == pytest.approx(4e-3, rel=1e-12)
    assert '"d3=4*d2" ; T2 time per loop' in note and "d2 = 1 ms" in note


def test_loop_counted_by_c_and_a_plain_delay_body():
    text = "1 ze\n2 d1\n3 d5\n  p2 ph1\n  d5\n  lo to 3 times c\n  go=2\n"
    seconds, _ = pp.vclist_loop_duration(parsed(text), ACQUS)
    assert seconds == pytest.approx(2 * 0.0005 + 20e-6, rel=1e-12)


@pytest.mark.parametrize("text, match", [
    ("1 ze\n2 d1\n  go=2\n  lo to 2 times td1\n", "no loop is counted by the vclist"),
    ("1 ze\n3 d5\n4 p1\n  d5\n  lo to 4 times l3\n  lo to 3 times vclist\n", "nested"),
    ("1 ze\n3 d5\n  go=2 ph31\n  lo to 3 times vclist\n", "not a delay or pulse"),
    ("1 ze\n3 d5\n  vd\n  lo to 3 times vclist\n", "no fixed duration"),
    ("1 ze\n3 DELTA9\n  lo to 3 times vclist\n", "'DELTA9' has no value"),
    ('"d3=5*d2" ; T2 time per loop\n3 d2\n  d2\n  d2\n  d2\n  lo to 3 times vclist\n',
     "sums to 4 ms"),
    ("1 ze\n3 d5\n  lo to 3 times vclist\n5 d5\n  lo to 5 times vclist\n", "2 loops"),
])
def test_loops_that_cannot_be_evaluated_are_refused(text, match):
    with pytest.raises(pp.PulseProgramError, match=match):
        pp.vclist_loop_duration(parsed(text), ACQUS)


def test_lo_to_an_undefined_label_is_refused_only_when_that_loop_is_needed():
    prog = parsed("  d1\n  lo to 7 times vclist\n")  # parsing itself does not fail
    with pytest.raises(pp.PulseProgramError, match="no earlier line defines"):
        pp.vclist_loop_duration(prog, ACQUS)


# --- annotations --------------------------------------------------------------------------

def test_annotation_block_is_parsed_like_yaml():
    ann = parsed(XSTE).annotations
    assert ann["authors"] == ["Someone <a@b.c>"]
    assert ann["reference_pulse"] == [{"channel": "f1", "duration": "p1", "power": "pl1"}]
    assert ann["diffusion"]["coherence"] == ["f1", "1"]
    assert ann["diffusion"]["gradient_strength"] == {
        "type": "linear", "start": "cnst1", "end": "cnst2", "scale": "gpz6"}


def test_diffusion_annotation_gives_timing_and_ramp():
    d = pp.diffusion_annotation(parsed(XSTE), ACQUS)
    assert d.big_delta == pytest.approx(0.1)
    assert d.little_delta == pytest.approx(2e-3)  # p31 = 2 p30, P[30] = 1000 µs
    assert d.tau == pytest.approx(1e-3 + 0.0002 + 20e-6)  # d17 relation
    assert d.bipolar and d.channel == "f1" and d.coherence_order == 1
    assert np.allclose(d.gradient_fractions(5), np.linspace(0.02, 0.98, 5) * 0.8)


@pytest.mark.parametrize("old, new, match", [
    ("{type: linear,", "{type: exponential,", "not linear"),
    ("type: bipolar", "type: oneshot", "not bipolar or monopolar"),
    ("big_delta: d20", "big_delta: d77", "'d77' has no value"),
])
def test_annotations_that_cannot_be_used_are_refused(old, new, match):
    with pytest.raises(pp.PulseProgramError, match=match):
        pp.diffusion_annotation(parsed(XSTE.replace(old, new)), ACQUS)


def test_no_annotation_means_none():
    assert pp.diffusion_annotation(parsed(PROJECT), ACQUS) is None


# --- readers: processed-only folders and the report ----------------------------------------

def test_folder_without_ser_reads_its_processed_spectra_with_a_note(tmp_path):
    exp_dir = copy_example("bruker_t1ir_pseudo2d", tmp_path / "t1ir" / "1")
    raw = nmrilt.read(exp_dir / "pdata" / "1")
    (exp_dir / "ser").unlink()
    exp = nmrilt.read(exp_dir)
    assert exp.meta["processed"] and np.array_equal(exp.data, raw.data)
    assert any("no fid/ser" in n and "pdata/1" in n for n in exp.notes)


def test_report_shows_reader_notes():
    res = small_result("pseudo2d")
    params = dict(res.parameters) | {"meta": {"notes": ["echo time: 4 ms per vclist count"]}}
    text = report_text(dataclasses.replace(res, parameters=params))
    assert "reader note:   echo time: 4 ms per vclist count" in text


# --- the real local pulse programs ---------------------------------------------------------

PROJECT_T2 = SHARED_DATASETS / "nmrtools_project_t2"
XSTE_DIR = SHARED_DATASETS / "nmrtools_xste_diffusion"


@pytest.mark.shared
def test_project_t2_echo_times_are_vclist_times_4_ms():
    shared_dataset("nmrtools_project_t2")
    exp = nmrilt.read(PROJECT_T2, kind="t2_cpmg")
    vclist = np.loadtxt(PROJECT_T2 / "vclist")
    echo = exp.axis("echo")
    assert echo.unit == "s"
    assert np.allclose(echo.values, vclist * 4e-3, rtol=1e-9)
    assert exp.meta["processed"] and exp.data.shape[0] == len(vclist)
    assert any('"d3=4*d2"' in n and "4 ms per vclist count" in n for n in exp.notes)


@pytest.mark.shared
def test_project_t2_without_a_pulse_program_says_what_to_add(tmp_path):
    shared_dataset("nmrtools_project_t2")
    folder = tmp_path / "t2"
    shutil.copytree(PROJECT_T2, folder, ignore=shutil.ignore_patterns(
        "pulseprogram*", "lists"))
    with pytest.raises(ReadError, match="scale = <seconds per count>"):
        nmrilt.read(folder, kind="t2_cpmg")


@pytest.mark.shared
def test_xste_b_values_come_from_the_annotations():
    shared_dataset("nmrtools_xste_diffusion")
    exp = nmrilt.read(XSTE_DIR)
    assert exp.kind == "diffusion"
    b = exp.axis("b_value")
    acqus = read_parameters(XSTE_DIR)[0]["acqus"]
    # independent inputs: the difflist (G/cm, written by TopSpin's dosy AU program) and
    # the acqus delays; Δ = D20, δ = 2 P30, τ = D17 (the program's "d17" relation)
    g = np.loadtxt(XSTE_DIR / "difflist") * 1e-2
    big, little, tau = acqus["D"][20], 2 * acqus["P"][30] * 1e-6, acqus["D"][17]
    expected = (267.5221874e6 * g * little) ** 2 * (big - little / 3 - tau / 2)
    assert np.allclose(b.values, expected, rtol=1e-3)  # the difflist has 4 digits
    assert b.meta["tau"] == pytest.approx(0.00225)
    note = " ".join(exp.notes)
    assert "big_delta d20 = 100 ms" in note and "SMSQ10.100 integral factor 0.9" in note
    assert "agree with difflist within" in note
