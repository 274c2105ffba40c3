"""``.include`` in PDN decks: the named files' lines read in place, with where each line came from.

The PDN readers work on one deck's bytes; a deck with ``.include``/``.inc`` cards is first expanded here (recursively,
a relative name taken from the including file's folder, as the circuit reader and ngspice do) and then read as one,
while every message still names the file and line a line came from.
"""

from __future__ import annotations

from eda.errors import InputError

__all__ = ["INCLUDE_CARDS", "expand_includes"]

INCLUDE_CARDS = frozenset({".include", ".inc"})


def expand_includes(data: bytes, file: str | None) -> tuple[bytes, list[tuple[str | None, int]]]:
    """``data`` with every ``.include``/``.inc`` line replaced by the lines of the file it names (recursively), and
    where each resulting line came from: ``(file, 1-based line)``. The deck's first line is its title, never a card.

    Raises:
        InputError: a card without a file name, a file that cannot be read, includes nested too deep (a loop);
            naming the including file and line.
    """
    out: list[bytes] = []
    origin: list[tuple[str | None, int]] = []
    _include_lines(data, file, 0, out, origin)
    return b"\n".join(out) + b"\n", origin


def _include_lines(data: bytes, file: str | None, depth: int, out: list[bytes],
                   origin: list[tuple[str | None, int]]) -> None:
    from eda.read.from_spice import MAX_INCLUDE_DEPTH, include_path

    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for i, ln in enumerate(lines):
        toks = ln.split()
        if not toks or toks[0].decode("ascii", errors="replace").lower() not in INCLUDE_CARDS or (depth, i) == (0, 0):
            out.append(ln)
            origin.append((file, i + 1))
            continue
        text = ln.decode("utf-8", errors="replace").strip()
        if len(toks) < 2:
            raise InputError(f"{toks[0].decode(errors='replace')}: expected a file name", file=file, line=i + 1,
                             text=text)
        if depth >= MAX_INCLUDE_DEPTH:
            raise InputError(f"includes nested more than {MAX_INCLUDE_DEPTH} deep (a loop?)", file=file,
                             line=i + 1, text=text)
        path = include_path(toks[1].decode("utf-8", errors="replace"), file)
        try:
            sub = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read the included file {path}: {e.strerror}", file=file, line=i + 1,
                             text=text) from None
        if b"\0" in sub:
            raise InputError(f"the included file {path} holds a NUL byte (binary file?)", file=file, line=i + 1,
                             text=text)
        _include_lines(sub, str(path), depth + 1, out, origin)
