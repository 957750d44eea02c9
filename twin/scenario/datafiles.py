"""Durations read from data files: `{empirical: {file: times.csv, column: NAME, unit: s}}`.

Measured cycle, repair or travel times usually come as a column of a CSV export (MES,
maintenance log) rather than as a list written into the scenario. The loader makes a
file's name relative to the scenario file that names it (`resolve_files`); the
distribution's parser reads it (`read_durations`), so validation stays at the edge and the
validated scenario holds the values themselves (its hash changes when the data does).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
from array import array
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from twin.errors import did_you_mean
from twin.scenario.files import read_bytes, unreadable
from twin.units import MAX_DURATION_S, SECONDS, DurationTooLarge, parse_duration

MAX_VALUES = 10_000_000  # far beyond any measured sample; a wrong file is caught early
MAX_DATA_BYTES = 2**30  # (10 million values with a few columns fit well below)


def read_durations(file: str, column: str | None = None, unit: str = "s") -> list[float]:
    """The durations (seconds) in one column of a CSV file. A first row with a cell that is
    neither a number nor a duration is the header; a file of one column needs no `column`.
    Cells are numbers in `unit`, or durations with their own unit ("52 s"); empty cells are
    skipped. Raises ValueError with a message naming the file, and the line of a bad cell.

    A file read before with the same contents is not parsed again (a `vary:` experiment
    loads its scenario once per point): the last few results are kept by the file's name,
    column, unit and a digest of its bytes."""
    if unit not in SECONDS:
        raise ValueError(f"unit {unit!r} is no time unit; use one of s, min, h, d, w")
    try:
        raw = read_bytes(file, MAX_DATA_BYTES)
    except FileNotFoundError:
        raise ValueError(f"cannot read {file}: no such file (a file name is relative to "
                         f"the scenario file that gives it)") from None
    except OSError as e:
        raise ValueError(f"cannot read {file}: {unreadable(e)}") from None
    key = (os.path.abspath(file), column, unit, hashlib.blake2b(raw, digest_size=20).digest())
    values = _PARSED.get(key)
    if values is None:
        values = _PARSED[key] = _parse(raw, file, column, unit)
        while len(_PARSED) > KEPT_FILES:
            _PARSED.popitem(last=False)
    else:
        _PARSED.move_to_end(key)
    return list(values)


KEPT_FILES = 8  # parsed columns kept (a 1 M-row column takes 8 MB, as an array of doubles)
_PARSED: OrderedDict[tuple, array] = OrderedDict()


def _parse(raw: bytes, file: str, column: str | None, unit: str) -> array:
    """The values of a file's bytes (`read_durations` without the cache)."""
    try:
        text = raw.decode("utf-8-sig")
        rows = list(_records(csv.reader(io.StringIO(text, newline=""))))
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"cannot read {file}: {e}") from None
    if not rows:
        raise ValueError(f"{file} holds no values")
    header = None
    if not all(_is_value(cell) for cell in rows[0][1] if cell.strip()):
        header = [cell.strip() for cell in rows[0][1]]
        rows = rows[1:]
    index = _column_index(file, header, rows, column)
    values = []
    for n, row in rows:
        cell = row[index].strip() if index < len(row) else ""
        if not cell:
            continue
        values.append(_seconds(cell, unit, file, n))
        if len(values) > MAX_VALUES:
            raise ValueError(f"{file} holds more than {MAX_VALUES:,} values")
    if not values:
        raise ValueError(f"{file} holds no values in its column"
                         + (f" {column!r}" if column else ""))
    return array("d", values)


def _records(reader) -> Iterator[tuple[int, list[str]]]:
    """(the file's line where it begins, cells) of every record that is not blank (a
    quoted cell may span lines, so records and lines differ)."""
    line = 1
    for row in reader:
        if any(cell.strip() for cell in row):
            yield line, row
        line = reader.line_num + 1


def _is_number(cell: str) -> bool:
    if "_" in cell:  # (Python reads 1_000 as a number; no CSV export writes it)
        return False
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_value(cell: str) -> bool:
    """A number, or a duration with its unit ("52 s"): not a header's name."""
    if _is_number(cell):
        return True
    try:
        parse_duration(cell.strip())
    except ValueError:
        return False
    return True


def _width(row: list[str]) -> int:
    """Cells up to the last one that is not empty (a trailing comma adds no column)."""
    n = len(row)
    while n and not row[n - 1].strip():
        n -= 1
    return n


def _column_index(file: str, header: list[str] | None, rows: list, column: str | None) -> int:
    width = max([_width(header or [])] + [_width(row) for _, row in rows])
    if column is None:
        if width > 1:
            names = ", ".join(header) if header else f"{width} columns without a header"
            raise ValueError(f"{file} has several columns ({names}); name one with column:")
        return 0
    if header is None:
        raise ValueError(f"{file} has no header row, so column {column!r} names nothing; "
                         f"give the file a header or leave column out")
    if column not in header:
        raise ValueError(f"{file} has no column {column!r} (columns: {', '.join(header)})."
                         f"{did_you_mean(column, header)}")
    if header.count(column) > 1:
        raise ValueError(f"{file} has {header.count(column)} columns named {column!r} "
                         f"(columns: {', '.join(header)}); rename all but one, so that it "
                         f"is clear which one is meant")
    wide = next(((n, row) for n, row in rows if _width(row) > _width(header)), None)
    if wide is not None:
        raise ValueError(f"{file}, line {wide[0]}: {_width(wide[1])} cells, but the header "
                         f"names {_width(header)} columns; name every column in the header, "
                         f"or put a cell that holds a comma in quotes")
    return header.index(column)


def _seconds(cell: str, unit: str, file: str, line: int) -> float:
    try:
        seconds = float(cell) * SECONDS[unit] if _is_number(cell) else parse_duration(cell)
    except DurationTooLarge as e:
        raise ValueError(f"{file}, line {line}: {e}") from None
    except ValueError:
        raise ValueError(f"{file}, line {line}: {cell!r} is not a duration (a number in "
                         f"{unit}, or a number with its unit such as \"52 s\")") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{file}, line {line}: {cell!r} must be a finite duration, not "
                         f"negative")
    if seconds > MAX_DURATION_S:
        raise ValueError(f"{file}, line {line}: {cell!r} {unit} is far too large (more than "
                         f"{MAX_DURATION_S:g} s, some 30 million years): a typo?")
    return seconds


def _file_entries(data: Any, path: tuple = ()) -> Iterator[tuple[tuple, dict]]:
    """(key path, body) of every `empirical: {file: ...}` in a plain document."""
    if isinstance(data, dict):
        body = data.get("empirical")
        if len(data) == 1 and isinstance(body, dict) and isinstance(body.get("file"), str):
            yield path + ("empirical",), body
            return
        for key, value in data.items():
            yield from _file_entries(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _file_entries(value, path + (i,))


def resolve_files(data: Any, origin_of) -> None:
    """Make every data file name relative to the file that gives it (`origin_of(key path)`
    -> that file's name, or None for the command line: the current directory)."""
    for path, body in _file_entries(data):
        name = body["file"]
        given_in = origin_of(path + ("file",))
        if given_in and not os.path.isabs(name):  # (joined as text, not normalised: a
            # "..". after a symbolic link is the link target's parent, as the system reads it)
            body["file"] = os.path.join(os.path.dirname(given_in), name)
