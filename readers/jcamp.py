"""A bounded check that nmrglue's JCAMP-DX parser will return from a parameter file.

nmrglue's parser (``nmrglue.fileio.bruker.parse_jcamp_file``) keeps reading lines until
an array holds as many values as its ``(0..N)`` header declares, or until a ``<`` string
meets its ``>``; at end of file it reads empty lines forever.  A file cut by a running
acquisition or a broken copy therefore hangs it.  :func:`check_complete` walks the file
once, the way that parser does, and refuses it when a record would run past the end of
the file, or when the ``##END=`` record is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

from nmrilt.errors import ParameterFileError

#: Largest parameter file accepted (a real acqus is ~20 kB).
MAX_BYTES = 16 * 1024 * 1024
_NEWLINE = re.compile(r"\r\n|\r|\n")  # the line ends of Python's text mode
_ARRAY = re.compile(r"\(\s*\d+\s*\.\.\s*(\d+)\s*\)")


def _cut(path: Path, what: str) -> ParameterFileError:
    return ParameterFileError(
        f"{path} is cut short ({what}): the acquisition may still be writing it, or the copy "
        f"is incomplete; wait, or copy an intact {path.name} from the spectrometer"
    )


def check_complete(path: str | Path) -> None:
    """Raise unless every record of ``path`` ends before the file does.

    Raises
    ------
    ParameterFileError
        The file cannot be read, is too large, has no ``##END=`` record, or holds an
        array or ``<...>`` string that runs past the end of the file.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ParameterFileError(
                f"{path} holds {size} bytes, far more than a parameter file; copy an intact "
                f"{path.name} from the spectrometer"
            )
        text = path.read_bytes().decode("latin-1")
    except OSError as exc:
        raise ParameterFileError(f"{path} cannot be read ({exc}); check its permissions") from None
    lines = [ln.rstrip() for ln in _NEWLINE.split(text)]
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        i += 1
        if line.startswith("##END=") or (line == "" and "##END=" in text):
            return  # nmrglue stops here (it takes an empty line for the end of the file)
        if not line.startswith("##$") or "=" not in line:
            continue
        value = line[line.index("=") + 1:].lstrip()
        if "<" in value:
            while ">" not in value:
                if i >= n:
                    raise _cut(path, f"the string of {line[3:line.index('=')]} never ends")
                value += lines[i]
                i += 1
        elif "(" in value:
            match = _ARRAY.search(line)
            if match is None:
                continue  # nmrglue refuses the record itself (caught as a parse error)
            wanted = int(match.group(1)) + 1
            have = len(line[line.index(")") + 1:].split())
            while have < wanted:
                if i >= n:
                    raise _cut(path, f"array {line[3:line.index('=')]} declares {wanted} "
                                     f"values but the file ends after {have}")
                have += len(lines[i].split())
                i += 1
    raise _cut(path, "no closing ##END= line")
