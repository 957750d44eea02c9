"""Helpers shared by several test modules (not tests themselves)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from hypothesis import strategies as st


def write_scenario(tmp_path: Path, text: str, name: str = "line.yaml") -> Path:
    """Write an indented YAML text as a scenario file; returns its path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def twin_command() -> list[str]:
    """The `twin` console script of this environment (or `python -m twin.cli`)."""
    exe = Path(sys.executable).with_name("twin")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "twin.cli"]


def without_timing(doc: dict) -> dict:
    """A summary document as written to summary.json, without its `timing` part."""
    doc = json.loads(json.dumps(doc))
    doc.pop("timing")
    return doc


def key_paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every key path in a plain document (mapping keys and list indices)."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += key_paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += key_paths(value, path + (i,))
    return found


@st.composite
def period_sets(draw) -> dict[str, list[tuple[float, float]]]:
    """Active periods per resource ("r0", "r1", ...): disjoint, non-touching, in time order,
    on a coarse grid (so ties in length happen)."""
    out = {}
    for r in range(draw(st.integers(1, 5))):
        t, spans = 0.0, []
        for _ in range(draw(st.integers(0, 12))):
            t += draw(st.integers(1, 6))
            length = draw(st.integers(1, 12))
            spans.append((t, t + length))
            t += length
        out[f"r{r}"] = spans
    return out
