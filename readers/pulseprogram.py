"""What a Bruker pulse program's text says about the axes of a local experiment.

A local pulse program (one no built-in recipe knows) still states its timing: relations
such as ``"d3=4*d2"  ; T2 time per loop`` and loops such as ``lo to 3 times vclist``, and
some carry a machine-readable ``;@`` annotation block (the waudbylab/pulseprograms
schema) with the diffusion timing and gradient ramp::

    ;@ diffusion:
    ;@   type: bipolar
    ;@   coherence: [f1, 1]
    ;@   big_delta: d20
    ;@   little_delta: p31
    ;@   tau: d17
    ;@   gradient_strength: {type: linear, start: cnst1, end: cnst2, scale: gpz6}
    ;@   gradient_shape: gpnam6

This module parses the text (:func:`parse`), evaluates names and expressions from the
relations and the acquisition parameters (:class:`Evaluator`), turns a vclist-counted loop
into a duration per count (:func:`vclist_loop_duration`) and reads the diffusion
annotations (:func:`diffusion_annotation`).  Everything is evaluated in seconds (``P`` in
acqus is in µs).  What cannot be evaluated is refused with :class:`PulseProgramError`
naming the file, the line and the reason; nested loops and non-linear ramps too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nmrilt.errors import ReadError

__all__ = ["DiffusionAnnotation", "Evaluator", "Loop", "PulseProgram", "PulseProgramError",
           "diffusion_annotation", "find_text", "parse", "vclist_loop_duration"]

#: Unit suffixes of numbers in pulse programs (``30m``, ``20u``, ``1s``).
_SUFFIX = {"s": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12}
_NUMBER = re.compile(r"(?<![\w.])(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)([smunp])?(?!\w)")
_RELATION = re.compile(r'^\s*"\s*([A-Za-z_]\w*)\s*=\s*([^"]*)"\s*(?:;(.*))?$')
_LOOP = re.compile(r"^\s*lo\s+to\s+(\w+)\s+times\s+(\w+)", re.IGNORECASE)
_LABEL = re.compile(r"^\s*(?:(\d+)\s+|([A-Za-z_]\w*)\s*,\s*)(.*)$")
_LIST_DEF = re.compile(r"define\s+list\s*<\s*(\w+)\s*>\s*(\w+)\s*=\s*<\s*\$?(\w+)\s*>",
                       re.IGNORECASE)
#: acqus arrays addressed as ``<prefix><index>`` and their factor to SI (P is in µs).
_ARRAYS = {"d": ("D", 1.0), "p": ("P", 1e-6), "cnst": ("CNST", 1.0), "l": ("L", 1.0),
           "gpz": ("GPZ", 1.0), "in": ("IN", 1.0), "pcpd": ("PCPD", 1e-6)}
#: Statements that end the timing of a loop body (an acquisition or a data operation).
_NOT_TIMING = re.compile(r"^\s*(go|gonp|goscnp)\s*=|\b(wr|rf|ze|zd|exit)\b", re.IGNORECASE)


class PulseProgramError(ReadError):
    """A pulse program's text cannot give the value asked for (the message says why)."""


@dataclass(frozen=True)
class Relation:
    """One ``"name=expression"`` line (``comment`` is the text after ``;``)."""

    name: str
    expression: str
    comment: str
    line: int


@dataclass(frozen=True)
class Loop:
    """``lo to <label> times <count>``: body lines ``start`` (labelled) .. ``end`` - 1."""

    label: str
    count: str
    start: int
    end: int


@dataclass
class PulseProgram:
    """Parsed text of one pulse program.

    Attributes
    ----------
    source : str
        File the text came from (used in messages).
    lines : list of str
        Statement text per line (comments removed); index = line number - 1.
    relations : list of Relation
    loops : list of Loop
    lists : dict
        ``define list<type> name = <$LIST>``: lower-case name -> (type, list parameter).
    annotations : dict
        The ``;@`` block parsed into nested dicts/lists of strings.
    """

    source: str
    lines: list[str]
    relations: list[Relation] = field(default_factory=list)
    loops: list[Loop] = field(default_factory=list)
    lists: dict[str, tuple[str, str]] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)


def find_text(expdir: Path, pulprog: str) -> tuple[str, Path] | None:
    """The pulse program text of an experiment folder and the file it came from.

    Looks for ``pulseprogram`` (what TopSpin copies at acquisition), then
    ``pulseprogram.precomp``, then ``lists/pp/<PULPROG>``; ``None`` if none exists.
    """
    candidates = [expdir / "pulseprogram", expdir / "pulseprogram.precomp"]
    if pulprog and "/" not in pulprog and "\\" not in pulprog:
        candidates.append(expdir / "lists" / "pp" / pulprog)
    for path in candidates:
        if path.is_file():
            return path.read_bytes().decode("utf-8", errors="replace"), path
    return None


def parse(text: str, source: str = "pulseprogram") -> PulseProgram:
    """Parse relations, loops, list definitions and the ``;@`` annotations of ``text``."""
    statements: list[str] = []
    relations: list[Relation] = []
    annotation_lines: list[str] = []
    lists: dict[str, tuple[str, str]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith(";@"):
            annotation_lines.append(raw.split(";@", 1)[1])
            statements.append("")
            continue
        rel = _RELATION.match(raw)
        if rel:
            relations.append(Relation(rel.group(1).lower(), rel.group(2).strip(),
                                      (rel.group(3) or "").strip(), number))
            statements.append("")
            continue
        if stripped.startswith("#"):  # preprocessor line markers
            statements.append("")
            continue
        code = raw.split(";", 1)[0].rstrip()
        for m in _LIST_DEF.finditer(code):
            lists[m.group(2).lower()] = (m.group(1).lower(), m.group(3).upper())
        statements.append(code)
    prog = PulseProgram(source, statements, relations, [], lists,
                        _parse_annotations(annotation_lines))
    prog.loops = _find_loops(prog)
    return prog


def _find_loops(prog: PulseProgram) -> list[Loop]:
    labels: dict[str, int] = {}
    loops = []
    for i, code in enumerate(prog.lines):
        m = _LABEL.match(code)
        if m and code.strip() and not _LOOP.match(code):
            labels[(m.group(1) or m.group(2)).lower()] = i
        lo = _LOOP.match(code)
        if lo:
            label = lo.group(1).lower()
            # an undefined label matters only if that loop is asked about: start = -1
            loops.append(Loop(label, lo.group(2).lower(), labels.get(label, -1), i))
    return loops


# --- the ;@ annotation block (a small YAML subset: block maps, flow maps and lists) -----

def _scalar(text: str) -> Any:
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        out = {}
        for item in _split_flow(text[1:-1]):
            key, _, value = item.partition(":")
            out[key.strip()] = _scalar(value)
        return out
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(v) for v in _split_flow(text[1:-1])]
    return text.strip("\"'")


def _split_flow(text: str) -> list[str]:
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [s for s in (s.strip() for s in items) if s]


def _parse_annotations(lines: list[str]) -> dict[str, Any]:
    """Nested dicts of the ``;@`` lines (block maps, ``- item`` lists, flow ``{}``/``[]``);
    the bodies of ``|`` block scalars are skipped — only keys with plain values matter."""
    root = _Block()
    stack: list[tuple[int, _Block]] = [(-1, root)]
    block_indent: int | None = None
    for raw in lines:
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip())
        if block_indent is not None and indent >= block_indent:
            continue  # body of a "|" block scalar
        block_indent = None
        text = raw.strip()
        item = text == "-" or text.startswith("- ")
        # a list may sit at its key's own indentation ("key:" then "- x")
        while len(stack) > 1 and (indent < stack[-1][0] or (indent == stack[-1][0]
                                                               and not item)):
            stack.pop()
        parent = stack[-1][1]
        if item:
            parent.entries.append(_scalar(text[1:]))
            continue
        key, sep, value = text.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if value == "|":
            parent[key] = ""
            block_indent = indent + 1
        elif value:
            parent[key] = _scalar(value)
        else:  # a nested block: a map, or a list if its entries start with "- "
            child = _Block()
            parent[key] = child
            stack.append((indent, child))
    return _resolve(root)


class _Block(dict):
    """A nested block being read; it becomes a list if its entries are ``- x`` items."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[Any] = []


def _resolve(node: Any) -> Any:
    if isinstance(node, _Block) and node.entries and not dict(node):
        return [_resolve(v) for v in node.entries]
    if isinstance(node, dict):
        return {k: _resolve(v) for k, v in node.items()}
    return node


# --- evaluation ------------------------------------------------------------------------

class Evaluator:
    """Values of pulse-program names in SI units, from the relations and acqus.

    Relations are applied in file order, as TopSpin does when it compiles the program;
    a name that no relation sets comes from acqus (``d2`` -> ``D[2]`` s, ``p1`` ->
    ``P[1]·1e-6`` s, ``cnst1``, ``gpz6``, ``l3``, ``de`` -> ``DE·1e-6`` s).  Relations that
    cannot be evaluated are remembered with their reason and only matter when used.
    """

    def __init__(self, prog: PulseProgram, acqus: Mapping[str, Any]) -> None:
        self.prog = prog
        self.acqus = acqus
        self.values: dict[str, float] = {}
        self.failed: dict[str, str] = {}
        self.origin: dict[str, str] = {}
        for rel in prog.relations:
            try:
                self.values[rel.name] = self.expression(rel.expression, f"line {rel.line}")
                self.failed.pop(rel.name, None)
                self.origin[rel.name] = f'"{rel.name}={rel.expression}"'
            except PulseProgramError as exc:
                self.values.pop(rel.name, None)
                self.failed[rel.name] = str(exc)

    def name(self, name: str, where: str = "") -> float:
        """Value of one name (s for delays and pulses)."""
        key = name.lower()
        if key in self.values:
            return self.values[key]
        if key in self.failed:
            raise PulseProgramError(self.failed[key])
        m = re.fullmatch(r"([a-z]+)(\d+)", key)
        if m and m.group(1) in _ARRAYS:
            array, factor = _ARRAYS[m.group(1)]
            values = self.acqus.get(array)
            index = int(m.group(2))
            if isinstance(values, list) and index < len(values):
                try:
                    value = float(values[index]) * factor
                except (TypeError, ValueError):
                    value = float("nan")
                if np.isfinite(value):
                    self.origin.setdefault(key, f"acqus {array}[{index}]")
                    return value
        if key == "de" and "DE" in self.acqus:
            return float(self.acqus["DE"]) * 1e-6
        raise PulseProgramError(
            f"{self.prog.source}{' ' + where if where else ''}: '{name}' has no value (no "
            f"relation sets it and acqus has no such parameter)"
        )

    def expression(self, text: str, where: str = "") -> float:
        """Evaluate an arithmetic expression of names, numbers with unit suffixes,
        ``+ - * /``, parentheses and ``larger``/``smaller``."""
        py = _NUMBER.sub(lambda m: repr(float(m.group(1)) * _SUFFIX.get(m.group(2) or "", 1.0)),
                         text)
        try:
            tree = ast.parse(py.strip(), mode="eval")
        except SyntaxError:
            raise PulseProgramError(
                f"{self.prog.source} {where}: cannot read the expression '{text.strip()}'"
            ) from None
        return float(self._node(tree.body, text, where))

    def _node(self, node: ast.AST, text: str, where: str) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id, where)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self._node(node.operand, text, where)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult,
                                                                ast.Div)):
            a, b = self._node(node.left, text, where), self._node(node.right, text, where)
            if isinstance(node.op, ast.Div) and b == 0:
                raise PulseProgramError(f"{self.prog.source} {where}: division by zero in "
                                        f"'{text.strip()}'")
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(
                type(node.op), a / b if b else 0.0)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id.lower() in ("larger", "smaller") and not node.keywords):
            args = [self._node(a, text, where) for a in node.args]
            return max(args) if node.func.id.lower() == "larger" else min(args)
        raise PulseProgramError(f"{self.prog.source} {where}: '{text.strip()}' uses something "
                                f"nmrilt does not evaluate")

    def describe(self, name: str) -> str:
        """Where a name's value came from (a relation or an acqus entry)."""
        return self.origin.get(name.lower(), name)


# --- loops ------------------------------------------------------------------------------

def _is_vclist(prog: PulseProgram, count: str) -> bool:
    if count in ("vclist", "c", "vc"):
        return True
    kind_param = prog.lists.get(count)
    return kind_param is not None and kind_param == ("loopcounter", "VCLIST")


def _element(token: str) -> str:
    """The timing part of one element: ``p16:gp1`` -> ``p16``; ``d19*2`` stays."""
    return token.split(":", 1)[0]


def _groups(text: str) -> list[str]:
    """Top-level parenthesised groups of a line (their content)."""
    groups, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                groups.append(text[start:i])
    return groups


def _group_duration(content: str, ev: Evaluator, where: str) -> float:
    inner = _groups(content)
    if inner:  # "(center (p2 ph4):f1 (p22 ph4):f3)": parallel groups -> the longest
        return max(_group_duration(g, ev, where) for g in inner)
    total = 0.0
    for token in content.split():
        if re.match(r"^(ph|pl|sp|cpd|fq|gp)\d|^center$|^:f\d", token, re.IGNORECASE):
            continue
        total += ev.expression(_element(token), where)
    return total


def line_duration(code: str, ev: Evaluator, where: str) -> float:
    """Duration (s) of one statement line: its leading delay/pulse, or the longest of the
    parenthesised groups that start together."""
    m = _LABEL.match(code)
    body = m.group(3) if m else code
    body = body.strip()
    if not body:
        return 0.0
    if body.startswith("("):
        return max(_group_duration(g, ev, where) for g in _groups(body))
    first = body.split()[0]
    if re.fullmatch(r"vd|vp|ivd|ivc|ivp", first, re.IGNORECASE):
        raise PulseProgramError(f"{ev.prog.source} {where}: '{first}' takes a list value that "
                                f"changes per increment; the loop has no fixed duration")
    return ev.expression(_element(first), where)


def vclist_loop_duration(prog: PulseProgram, acqus: Mapping[str, Any]
                         ) -> tuple[float, str]:
    """Duration (s) of one pass of the loop counted by the vclist, and a note saying how.

    The body (from the labelled line to the ``lo to`` line) is summed line by line:
    each line contributes its leading delay or pulse, or the longest of its
    parenthesised groups.  A relation whose comment mentions "per loop"/"per cycle" is
    quoted in the note (and must agree with the sum to 0.1 %).

    Raises
    ------
    PulseProgramError
        No loop, several loops or a nested loop counted by the vclist, an acquisition
        inside the body, or a delay that cannot be evaluated.
    """
    loops = [lp for lp in prog.loops if _is_vclist(prog, lp.count)]
    if not loops:
        raise PulseProgramError(f"{prog.source}: no loop is counted by the vclist "
                                f"('lo to N times vclist')")
    if len(loops) > 1:
        raise PulseProgramError(
            f"{prog.source}: {len(loops)} loops are counted by the vclist (lines "
            f"{', '.join(str(lp.end + 1) for lp in loops)}); nmrilt cannot tell which one is "
            f"the relaxation period"
        )
    loop = loops[0]
    if loop.start < 0:
        raise PulseProgramError(f"{prog.source} line {loop.end + 1}: 'lo to {loop.label}' "
                                f"jumps to a label that no earlier line defines")
    for other in (lp for lp in prog.loops if lp.start >= 0):
        inside = loop.start <= other.start and other.end < loop.end
        outside = other.start <= loop.start and loop.end < other.end and other.count not in (
            "td1", "td", "td0", "tdav", "td2", "td3")
        if other is not loop and (inside or outside):
            raise PulseProgramError(
                f"{prog.source}: the vclist loop (lines {loop.start + 1}-{loop.end + 1}) is "
                f"nested with the loop 'lo to {other.label} times {other.count}' (line "
                f"{other.end + 1}); nested loops are not evaluated"
            )
    ev = Evaluator(prog, acqus)
    total, parts = 0.0, []
    for i in range(loop.start, loop.end):
        code = prog.lines[i]
        if not code.strip():
            continue
        where = f"line {i + 1}"
        if _NOT_TIMING.search(code):
            raise PulseProgramError(f"{prog.source} {where}: '{code.strip()}' inside the "
                                    f"vclist loop is not a delay or pulse")
        total += line_duration(code, ev, where)
        parts.append((_LABEL.match(code).group(3) if _LABEL.match(code) else code).split()[0])
    if not total > 0:
        raise PulseProgramError(f"{prog.source}: the vclist loop body (lines "
                                f"{loop.start + 1}-{loop.end}) lasts {total:g} s")
    note = (f"{total * 1e3:.6g} ms per vclist count from {Path(prog.source).name}: loop "
            f"'lo to {loop.label} times {loop.count}' over {' '.join(parts)}")
    for rel in prog.relations:
        if re.search(r"per\s+(loop|cycle|count)", rel.comment, re.IGNORECASE) and \
                rel.name in ev.values:
            said = ev.values[rel.name]
            if abs(said - total) > 1e-3 * total:
                raise PulseProgramError(
                    f"{prog.source} line {rel.line}: \"{rel.name}={rel.expression}\" ; "
                    f"{rel.comment} gives {said * 1e3:.6g} ms but the loop body sums to "
                    f"{total * 1e3:.6g} ms; state the axis with an nmrilt.toml axes table"
                )
            note += f" (= \"{rel.name}={rel.expression}\" ; {rel.comment})"
    # the values the body used, as the user would check them against the acqus
    named = {n.lower() for n in re.findall(r"[A-Za-z_]\w*", " ".join(parts))}
    for rel in prog.relations:
        if rel.name in named:
            named |= {n.lower() for n in re.findall(r"[A-Za-z_]\w*", rel.expression)}
    shown = [f"{n} = {_fmt_time(ev.values.get(n, 0.0) or ev.name(n))}" for n in sorted(named)
             if n in ev.values or ev.origin.get(n, "").startswith("acqus")]
    if shown:
        note += "; " + ", ".join(shown)
    return total, note


def _fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.6g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.6g} ms"
    return f"{seconds * 1e6:.6g} us"


# --- diffusion annotations ----------------------------------------------------------------

@dataclass(frozen=True)
class DiffusionAnnotation:
    """Diffusion timing and gradient ramp evaluated from a ``;@ diffusion:`` block.

    Attributes
    ----------
    big_delta, little_delta, tau : float
        Δ, δ and τ in s.
    bipolar : bool
    channel : str
        Channel of the encoded coherence (``f1`` ...), ``coherence_order`` its order.
    ramp : tuple of float
        Start and end of the linear ramp (fractions of the scaled maximum).
    scale_percent : float
        The gradient channel scale (e.g. GPZ6 in %).
    shape : str
        The parameter naming the gradient shape (``gpnam6``).
    note : str
        How each value was obtained.
    """

    big_delta: float
    little_delta: float
    tau: float
    bipolar: bool
    channel: str
    coherence_order: float
    ramp: tuple[float, float]
    scale_percent: float
    shape: str
    note: str

    def gradient_fractions(self, n: int) -> np.ndarray:
        """The ``n`` ramp values × scale, as fractions of the maximum gradient."""
        return np.linspace(self.ramp[0], self.ramp[1], n) * self.scale_percent / 100.0


def diffusion_annotation(prog: PulseProgram, acqus: Mapping[str, Any]
                         ) -> DiffusionAnnotation | None:
    """Evaluate the ``;@ diffusion:`` block, or ``None`` when the program has none.

    Raises
    ------
    PulseProgramError
        A key is missing, a name cannot be evaluated, the type is neither bipolar nor
        monopolar, or the gradient ramp is not linear.
    """
    block = prog.annotations.get("diffusion")
    if block is None:
        return None
    src = f"{prog.source} (;@ diffusion)"
    if not isinstance(block, dict):
        raise PulseProgramError(f"{src}: expected a block of keys, got {block!r}")
    kind = str(block.get("type", "")).lower()
    if kind not in ("bipolar", "monopolar"):
        raise PulseProgramError(f"{src}: type {kind or '(missing)'!r} is not bipolar or "
                                f"monopolar")
    ev = Evaluator(prog, acqus)

    def value(key: str, default: str | None = None) -> tuple[float, str]:
        expr = block.get(key, default)
        if expr is None:
            raise PulseProgramError(f"{src}: '{key}' is missing")
        v = ev.expression(str(expr), f"(;@ diffusion {key})")
        return v, f"{key} {expr} = {_fmt_time(v) if 'delta' in key or key == 'tau' else f'{v:g}'}"

    big, n1 = value("big_delta")
    little, n2 = value("little_delta")
    tau, n3 = value("tau", "0") if kind == "bipolar" else (0.0, "tau 0 (monopolar)")
    grad = block.get("gradient_strength")
    if not isinstance(grad, dict):
        raise PulseProgramError(f"{src}: gradient_strength must be a table such as {{type: "
                                f"linear, start: cnst1, end: cnst2, scale: gpz6}}")
    gtype = str(grad.get("type", "")).lower()
    if gtype != "linear":
        raise PulseProgramError(f"{src}: gradient_strength type {gtype or '(missing)'!r} is "
                                f"not linear; only linear ramps are evaluated — give the "
                                f"gradients with a difflist and an nmrilt.toml axes table")
    start = ev.expression(str(grad.get("start", "")), "(;@ gradient start)")
    end = ev.expression(str(grad.get("end", "")), "(;@ gradient end)")
    scale = ev.expression(str(grad.get("scale", "100")), "(;@ gradient scale)")
    coherence = block.get("coherence", ["f1", "1"])
    if not isinstance(coherence, list) or len(coherence) != 2:
        raise PulseProgramError(f"{src}: coherence must be [channel, order], got {coherence!r}")
    try:
        order = float(coherence[1])
    except ValueError:
        raise PulseProgramError(f"{src}: coherence order {coherence[1]!r} is not a number"
                                ) from None
    note = (f"diffusion timing from ;@ annotations of {Path(prog.source).name}: {kind}, "
            f"{n1}, {n2}, {n3}; gradient linear {grad.get('start')}..{grad.get('end')} = "
            f"{start:g}..{end:g} x {grad.get('scale')} = {scale:g} %")
    return DiffusionAnnotation(big, little, tau, kind == "bipolar", str(coherence[0]).lower(),
                               order, (start, end), scale, str(block.get("gradient_shape", "")),
                               note)


#: Gradient calibration units -> T/m.
_GRAD_UNITS = {"g/mm": 0.1, "g/cm": 0.01, "t/m": 1.0, "mt/m": 1e-3}


def gradient_calibration(folder: Path) -> tuple[float, str] | None:
    """Maximum gradient (T/m) from ``folder/gradient_calib`` (first line e.g. ``5.35 G/mm``),
    or ``None`` when the file is absent.

    Raises
    ------
    PulseProgramError
        The first line is not a positive number with a unit G/mm, G/cm, T/m or mT/m.
    """
    path = folder / "gradient_calib"
    if not path.is_file():
        return None
    first = (path.read_text(errors="replace").strip().splitlines() or [""])[0]
    m = re.fullmatch(r"\s*([-+]?\d+\.?\d*(?:[eE][-+]?\d+)?)\s*([A-Za-z/]+)\s*", first)
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _GRAD_UNITS or not float(m.group(1)) > 0:
        raise PulseProgramError(f"{path}: first line {first!r} is not a maximum gradient such "
                                f"as '5.35 G/mm' (units {', '.join(_GRAD_UNITS)})")
    return float(m.group(1)) * _GRAD_UNITS[unit], f"{path.name}: {first.strip()}"


def shape_integral(folder: Path, acqus: Mapping[str, Any], shape_param: str
                   ) -> tuple[float, str] | None:
    """Integral factor of the gradient shape named by ``shape_param`` (``gpnam6``):
    ``##$SHAPE_INTEGFAC=`` of ``folder/gpnam6`` or ``folder/lists/gp/<GPNAM[6]>``;
    ``None`` when neither file exists."""
    m = re.fullmatch(r"gpnam(\d+)", shape_param.strip().lower())
    if not m:
        return None
    names = acqus.get("GPNAM")
    index = int(m.group(1))
    shape = str(names[index]).strip("<> ") if isinstance(names, list) and index < len(
        names) else ""
    candidates = [folder / shape_param.lower()] + ([folder / "lists" / "gp" / shape] if shape
                                                   else [])
    for path in candidates:
        if not path.is_file():
            continue
        found = re.search(r"##\$SHAPE_INTEGFAC=\s*([-+0-9.eE]+)",
                          path.read_text(errors="replace"))
        if found and float(found.group(1)) > 0:
            factor = float(found.group(1))
            return factor, f"{shape or path.name} integral factor {factor:g} ({path.name})"
    return None
