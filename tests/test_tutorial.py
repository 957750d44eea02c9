"""docs/tutorial.md works as written.

The tutorial is executed in order in a temporary folder: every ```yaml block marked
`<!-- file: NAME -->` is saved as NAME and validated, and every line of a ```bash block
that starts with `twin` is run through `python -m twin`. A command whose shown output
(the ```text block after it) starts with `error:` must exit with status 2 and print exactly
that message; every other command must exit 0. Runs are shortened (horizon, warm-up,
replications, one worker) so the test stays fast; the commands are otherwise unchanged.
Afterwards every `out/...` path the tutorial names must exist, and the tutorial's line must
be the shipped `scenarios/examples/tutorial_line.yaml`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import twin

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "tutorial.md"
SHIPPED = REPO / "scenarios" / "examples" / "tutorial_line.yaml"

BLOCK = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)```",
                   re.S)
SHORT_RUN = ["--horizon", "8 h", "--warmup", "1 h", "--workers", "1"]


def blocks() -> list[tuple[str, str | None, str]]:
    """(language, file name or None, text) of every fenced block, in order."""
    return [(m["lang"], m["file"], m["body"]) for m in BLOCK.finditer(DOC.read_text())]


def shortened(args: list[str]) -> list[str]:
    """The command with a short horizon and few replications (the last option wins)."""
    if args[0] not in ("run", "compare"):
        return args
    extra = list(SHORT_RUN)
    if "auto" in args:
        extra += ["--set", "run.max_replications=5"]   # auto starts with 5
    else:
        extra += ["--replications", "2"]
    return args + extra


def steps() -> list[tuple[str, object]]:
    """("file", (name, text)) and ("command", (args, expected status, expected stderr))."""
    found = blocks()
    out: list[tuple[str, object]] = []
    for i, (lang, name, body) in enumerate(found):
        if lang == "yaml" and name:
            out.append(("file", (name, body)))
        elif lang == "bash":
            shown = found[i + 1][2] if i + 1 < len(found) and found[i + 1][0] == "text" else ""
            error = shown.strip() if shown.startswith("error:") else None
            for line in body.splitlines():
                if line.startswith("twin "):
                    out.append(("command", (shlex.split(line)[1:], 2 if error else 0, error)))
    return out


def test_the_tutorial_has_what_the_test_relies_on():
    files = [value for kind, value in steps() if kind == "file"]
    commands = [value for kind, value in steps() if kind == "command"]
    assert len(files) >= 4 and len(commands) >= 8
    assert [status for _, status, _ in commands].count(2) == 1, "one deliberate mistake"


def test_the_tutorials_line_is_the_shipped_scenario():
    files = dict(v for k, v in steps() if k == "file")
    assert files["line.yaml"] == SHIPPED.read_text()


def test_every_yaml_block_is_a_valid_scenario_or_the_deliberate_mistake(tmp_path):
    for kind, value in steps():
        if kind == "file":
            name, text = value
            (tmp_path / name).write_text(text)
    for kind, value in steps():
        if kind != "file":
            continue
        name, _ = value
        if name == "typo.yaml":
            with pytest.raises(twin.ScenarioError):
                twin.load(tmp_path / name)
        else:
            twin.load(tmp_path / name)


def test_every_command_works_as_shown(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    for kind, value in steps():
        if kind == "file":
            name, text = value
            (tmp_path / name).write_text(text)
            continue
        args, status, error = value
        done = subprocess.run([sys.executable, "-m", "twin", *shortened(args), "--quiet"]
                              if args[0] in ("run", "compare") else
                              [sys.executable, "-m", "twin", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == status, (args, done.stderr)
        if error:
            assert done.stderr.strip() == error
    named = set(re.findall(r"`(out/[^`]+?)`", DOC.read_text()))
    assert len(named) >= 8
    missing = [p for p in sorted(named) if not (tmp_path / p).exists()]
    assert not missing, missing
