"""The report's Scenario and Run sections say what was run."""

from __future__ import annotations

import html
import json
import re

from twin.cli import main

LINE = """\
name: oven and packer
run: {horizon: "10 h", replications: 3, seed: 4}
products: {p: {route: [oven, pack], release: {interarrival: {exponential: "5 min"}}}}
stations:
  oven: {process_time: "1 h", servers: 2, batch: {size: 6, min: 4}}
  pack: {process_time: {exponential: "4 min"}}
"""


def _report(tmp_path, text: str, *options: str) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet", *options]) == 0
    return html.unescape((tmp_path / "out" / "report.html").read_text())


def _scenario_json(page: str) -> dict:
    found = re.search(r"The validated scenario \(JSON\)</summary><pre>(.*?)</pre>", page, re.S)
    return json.loads(found.group(1))


def test_the_scenario_shown_is_the_one_run_with_the_command_line_options(tmp_path) -> None:
    page = _report(tmp_path, LINE, "--horizon", "2 h", "--replications", "2", "--seed", "9",
                   "--warmup", "30 min")
    run = _scenario_json(page)["run"]
    assert (run["horizon"], run["warmup"], run["replications"], run["seed"]) == \
        (7200.0, 1800.0, 2, 9)


def test_batch_sizes_are_listed(tmp_path) -> None:
    page = _report(tmp_path, LINE, "--replications", "1")
    assert "<th>batch</th>" in page
    assert "<td>6 (starts at 4)</td>" in page


def test_littles_law_row_explains_units_there_at_time_0(tmp_path) -> None:
    plain = _report(tmp_path, LINE, "--replications", "1")
    assert "count their lead time from time 0" not in plain
    started = _report(tmp_path, LINE + "initial_wip: {pack: {p: 5}}\n", "--replications", "1")
    assert "count their lead time from time 0" in started
