"""Tolerant Bruker list parsing: suffixes, comments, blank lines, headers, order, bad lines."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nmrilt.errors import ListFormatError, MissingListError
from nmrilt.readers.lists import parse_list, parse_value, read_list

SUFFIX_SCALE = {"": 1.0, "s": 1.0, "m": 1e-3, "ms": 1e-3, "u": 1e-6, "us": 1e-6, "n": 1e-9,
                "ns": 1e-9, "p": 1e-12, "k": 1e3}


@pytest.mark.parametrize(
    ("token", "seconds"),
    [("20.000m", 0.02), ("10ms", 0.01), ("5u", 5e-6), ("5us", 5e-6), ("100n", 1e-7),
     ("1.5s", 1.5), ("10s ", 10.0), ("3", 3.0), ("2p", 2e-12), ("1k", 1000.0),
     ("1e-3", 1e-3), ("2.5e-2s", 0.025), ("7 ms", 0.007), (".5", 0.5)],
)
def test_vdlist_suffixes_convert_to_seconds(token, seconds):
    assert parse_value(token, "vdlist") == pytest.approx(seconds, rel=1e-12)


def test_dnplab_style_mixed_units_keep_file_order():
    text = "20.000m\n56.854m\n161.616m\n459.422m\n1.306\n3.713\n10.553\n30.000\n"
    parsed = parse_list(text, "vdlist")
    expected = [0.02, 0.056854, 0.161616, 0.459422, 1.306, 3.713, 10.553, 30.0]
    np.testing.assert_allclose(parsed.values, expected, rtol=1e-12)
    assert parsed.unit == "s"


def test_descending_and_interleaved_lists_are_never_sorted():
    parsed = parse_list("10s\n1s\n5s\n0.01s\n2s\n", "vdlist")
    np.testing.assert_array_equal(parsed.values, [10, 1, 5, 0.01, 2])


def test_blank_lines_comments_and_trailing_blank_are_skipped():
    text = "# delays for T1\n\n; another comment\n1m   ; inline comment\n\n2m # note\n3m\n\n\n"
    parsed = parse_list(text, "vdlist")
    np.testing.assert_allclose(parsed.values, [1e-3, 2e-3, 3e-3])
    assert parsed.entries == ("1m", "2m", "3m")


def test_difflist_with_trailing_blank_line_is_read_in_gauss_per_cm():
    parsed = parse_list("144.71\n500.2\n2894.26\n\n", "difflist")
    np.testing.assert_allclose(parsed.values, [144.71, 500.2, 2894.26])
    assert parsed.unit == "G/cm"


def test_fq1list_offset_header_is_skipped_and_kept():
    parsed = parse_list("O 100.667172\n0\n1500\n-300.5\n", "fq1list")
    np.testing.assert_allclose(parsed.values, [0, 1500, -300.5])
    assert parsed.header == ("O 100.667172",)


def test_jcamp_style_header_lines_are_skipped():
    parsed = parse_list("##%AssocValueType= 7\n##$FOO= 2\n4\n8\n", "vclist")
    np.testing.assert_array_equal(parsed.values, [4, 8])
    assert len(parsed.header) == 2


def test_vclist_values_are_integers():
    parsed = parse_list("2\n4\n8.0\n", "vclist")
    assert parsed.values.dtype.kind == "i"
    np.testing.assert_array_equal(parsed.values, [2, 4, 8])


def test_vplist_unsuffixed_values_are_microseconds():
    np.testing.assert_allclose(parse_list("10\n2.5u\n1m\n", "vplist").values,
                               [10e-6, 2.5e-6, 1e-3])


@pytest.mark.parametrize(
    ("name", "text", "bad_line"),
    [
        ("garbage word", "1m\nbanana\n3m\n", 2),
        ("unknown suffix", "1m\n5h\n", 2),
        ("two numbers on a line", "1m\n2 3\n", 2),
        ("suffix on a loop counter", "2\n4m\n", 2),
        ("fractional loop counter", "2\n4.5\n", 2),
        ("header after values", "1\nO 100\n", 2),
        ("comma decimal", "1,5\n", 1),
    ],
)
def test_named_bad_lines_raise_list_format_error_with_line_number(name, text, bad_line):
    kind = "vclist" if "counter" in name else "vdlist"
    with pytest.raises(ListFormatError) as info:
        parse_list(text, kind, source="/x/vdlist")
    assert f"line {bad_line}" in str(info.value)
    assert "/x/vdlist" in str(info.value)


def test_empty_list_is_an_error():
    with pytest.raises(ListFormatError, match="holds no values"):
        parse_list("\n# only a comment\n\n", "vdlist", source="vdlist")


def test_read_list_missing_file_names_the_path(tmp_path):
    with pytest.raises(MissingListError, match=str(tmp_path / "vdlist")):
        read_list(tmp_path / "vdlist")


def test_read_list_uses_file_name_as_kind(tmp_path):
    (tmp_path / "vclist").write_text("1\n2\n")
    assert read_list(tmp_path / "vclist").values.dtype.kind == "i"


# --- property-based ---------------------------------------------------------------------

finite = st.floats(min_value=1e-6, max_value=1e4, allow_nan=False, allow_infinity=False)
suffix = st.sampled_from(sorted(SUFFIX_SCALE))
filler = st.sampled_from(["", "\n", "# comment\n", "; note\n", "   \n"])


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(st.tuples(finite, suffix, filler), min_size=1, max_size=25))
def test_property_values_round_trip_in_order(entries):
    lines = []
    for value, suf, fill in entries:
        lines.append(f"{value!r}{suf}")
        lines.append(fill.rstrip("\n"))
    parsed = parse_list("\n".join(lines) + "\n", "vdlist")
    expected = [v * SUFFIX_SCALE[s] for v, s, _ in entries]
    np.testing.assert_allclose(parsed.values, expected, rtol=1e-12)
    assert len(parsed) == len(entries)


@settings(max_examples=40, deadline=None, database=None)
@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30),
       st.sampled_from(["\n", "\r\n"]))
def test_property_vclist_integers_any_line_ending(counts, newline):
    parsed = parse_list(newline.join(map(str, counts)) + newline + newline, "vclist")
    np.testing.assert_array_equal(parsed.values, counts)


@settings(max_examples=40, deadline=None, database=None)
@given(st.text(alphabet="abcdefghijlqrtvwxyz!?@", min_size=1, max_size=6))
def test_property_words_after_a_value_are_rejected(word):
    with pytest.raises(ListFormatError):
        parse_list(f"1\n2{word}\n", "vdlist")
