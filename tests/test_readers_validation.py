"""Every value a reader takes from a vendor file is checked where it is read.

Each broken value must give a ReadError naming the file, the parameter and the value —
never a ValueError/ZeroDivisionError from deeper down, and never a silent result.
"""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest
from conftest import copy_example, edit_jcamp
from nmrilt.readers import read
from nmrilt.readers.jcamp import check_complete

from nmrilt.errors import ParameterFileError, ReadError

T1IR = "bruker_t1ir_pseudo2d"


@pytest.mark.parametrize(("key", "value"), [
    ("TD", "abc"), ("TD", 1), ("TD", 8191), ("TD", 0), ("TD", -5), ("SW_h", "abc"),
    ("SW_h", -6000), ("SW_h", 0), ("SFO1", 0), ("SFO1", -5), ("BF1", 0), ("DTYPA", "abc"),
    ("BYTORDA", 7), ("TE", "abc"), ("NS", "nan"), ("AQ_mod", "abc"), ("GRPDLY", 1e9),
    ("SW_h", "1e999"),
])
def test_bad_acqus_value_is_refused_naming_file_parameter_and_value(tmp_path, key, value):
    exp = copy_example(T1IR, tmp_path / "1")
    edit_jcamp(exp / "acqus", **{key: value})
    with pytest.raises(ReadError) as info:
        read(exp)
    message = str(info.value)
    assert str(exp / "acqus") in message and key in message
    assert str(value)[:6] in message or "odd" in message


@pytest.mark.parametrize("value", [0, -5, "", None])
def test_bad_acqu2s_td_is_refused(tmp_path, value):
    exp = copy_example(T1IR, tmp_path / "1")
    edit_jcamp(exp / "acqu2s", TD=value)
    with pytest.raises(ParameterFileError, match=r"acqu2s.*TD"):
        read(exp)


def test_short_d_array_names_the_missing_entry(tmp_path):
    exp = copy_example("bruker_t2cpmg_pseudo2d", tmp_path / "2")
    edit_jcamp(exp / "acqus", D=[0.0] * 3)
    with pytest.raises(ParameterFileError, match=r"D array holds 3 values, D\[20\]"):
        read(exp)


@pytest.mark.parametrize(("line", "pattern"), [
    ("-0.5", ">= 0"), ("1e999", "finite"), ("-1m", ">= 0"), ("inf", "cannot read"),
])
def test_bad_delay_in_vdlist_is_refused(tmp_path, line, pattern):
    exp = copy_example(T1IR, tmp_path / "1")
    lines = (exp / "vdlist").read_text().split()
    lines[len(lines) // 2] = line
    (exp / "vdlist").write_text("\n".join(lines) + "\n")
    with pytest.raises(ReadError, match=pattern):
        read(exp)


def test_vdlist_of_equal_delays_is_refused(tmp_path):
    exp = copy_example(T1IR, tmp_path / "1")
    n = len((exp / "vdlist").read_text().split())
    (exp / "vdlist").write_text("0\n" * n)
    with pytest.raises(ReadError, match=f"all {n} vd values are 0"):
        read(exp)


def test_nan_in_float_ser_is_refused(tmp_path):
    exp = copy_example(T1IR, tmp_path / "1")
    raw = np.fromfile(exp / "ser", dtype="<i4").astype("<f8")
    raw[100] = np.nan
    raw.tofile(exp / "ser")
    edit_jcamp(exp / "acqus", DTYPA=2)
    with pytest.raises(ReadError, match="NaN or infinite"):
        read(exp)


def _procpar_set(path, key, value):
    text = path.read_text()
    new = re.sub(rf"^({key} [^\n]*\n)[^\n]*\n", lambda m: f"{m.group(1)}1 {value}\n", text,
                 count=1, flags=re.MULTILINE)
    path.write_text(new)


@pytest.mark.parametrize(("key", "value"), [
    ("sfrq", "0"), ("sw", "0"), ("sw", "-4000"), ("np", "0"), ("np", "-5"), ("np", "100"),
    ("temp", "abc"), ("d2", "-1"), ("d2", "inf"),
])
def test_bad_procpar_value_is_refused(tmp_path, key, value):
    exp = copy_example("varian_t1_arrayed.fid", tmp_path / "v.fid")
    _procpar_set(exp / "procpar", key, value)
    with pytest.raises(ReadError, match=rf"procpar.*{key}"):
        read(exp)


@pytest.mark.parametrize("tail", [
    "##$D= (0..63)\n0.1 0.2\n",            # array cut short, then nothing
    "##$D= (0..63)\n0.1 0.2\n##END=\n",   # array short even counting the END line
    "##$TITLE= <unterminated\n",          # string never closed
    "##$TITLE= <unterminated\n##END=\n",
])
def test_parameter_file_nmrglue_would_loop_on_is_refused_quickly(tmp_path, tail):
    path = tmp_path / "acqus"
    path.write_text("##TITLE= Parameter file\n##$TD= 1024\n" + tail)
    outcome: list[BaseException | None] = []

    def check() -> None:
        try:
            check_complete(path)
            outcome.append(None)
        except ParameterFileError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=check, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert outcome and isinstance(outcome[0], ParameterFileError)
    assert "cut short" in str(outcome[0])


def test_complete_parameter_file_passes_the_check():
    from conftest import EXAMPLES

    check_complete(EXAMPLES / T1IR / "acqus")
