"""The HTML report: self-contained, complete, and shown by a real browser (headless Chromium)
with every figure decoded and no script errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import twin
from twin.analysis.compare import compare
from twin.cli import main
from twin.report.html import write_comparison, write_report

SMALL = (Path(__file__).parent / "scenarios" / "small_report.yaml").read_text()

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
# Appended to a copy of the page: after load, write what the browser saw into the DOM.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message)));
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const out = document.createElement('pre');
  out.id = 'twin-probe';
  out.textContent = JSON.stringify({
    images: imgs.length,
    undecoded: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
    errors: window.__errors});
  document.body.appendChild(out);
});
</script>"""


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def need_chromium() -> str:
    """The browser, or a failure in CI (it must be installed there) and a skip elsewhere."""
    path = chromium()
    if path is None:
        message = ("headless Chromium is needed to check the report; install it with "
                   "`apt-get update && apt-get install -y chromium`")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def browse(page: Path, tmp_path: Path) -> dict:
    """Open a copy of `page` with the probe in headless Chromium; what the probe saw."""
    probe = page.with_name(f"probe-{page.name}")
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    result = subprocess.run(
        [need_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="twin-probe">(.*?)</pre>', result.stdout, re.S)
    assert found, f"Chromium printed no probe result; stderr: {result.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, twin.Results]:
    folder = tmp_path_factory.mktemp("report")
    (folder / "small.yaml").write_text(SMALL)
    scenario = twin.load(folder / "small.yaml")
    results = twin.run(scenario)
    out = folder / "out"
    path = write_report(results, results.summary(), out, scenario)
    return path, results


def test_report_files(report) -> None:
    path, _ = report
    out = path.parent
    assert path.name == "report.html"
    for name in ("energy.csv", "power.csv", "energy_areas.csv", "energy_totals.csv",
                 "stations.csv", "products.csv"):
        assert (out / name).stat().st_size > 0, name
    pngs = sorted(p.stem for p in (out / "figures").glob("*.png"))
    assert pngs == sorted(["states", "bottleneck", "bottleneck_timeline", "flow",
                           "energy_areas", "energy_states", "power", "layout"])
    for png in (out / "figures").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_is_self_contained(report) -> None:
    text = report[0].read_text()
    assert "could not be drawn" not in text
    sources = re.findall(r"<img[^>]*src='([^']*)'", text)
    assert len(sources) == 8 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", text)  # nothing from a network
    assert "<script" not in text
    for words in ("seed 3", "scenario sha256", "Assumptions", "numpy", "Energy by process area",
                  "Facility loads", "dry_room"):
        assert words in text, words


def test_report_shows_every_figure_in_chromium(report, tmp_path: Path) -> None:
    seen = browse(report[0], tmp_path)
    assert seen == {"images": 8, "undecoded": [], "errors": []}


def test_comparison_page(report, tmp_path: Path) -> None:
    _, base = report
    (tmp_path / "b.yaml").write_text(SMALL.replace("servers: 2", "servers: 3"))
    other = twin.run(twin.load(tmp_path / "b.yaml"))
    by_label = {"two stackers": base, "three stackers": other}
    doc = compare({k: r.measures for k, r in by_label.items()})
    page = write_comparison(by_label, doc, tmp_path / "cmp")
    assert page.name == "compare.html"
    assert len(list((tmp_path / "cmp" / "figures").glob("compare_*.png"))) == 3
    text = page.read_text()
    assert "three stackers − two stackers" in text and "could not be drawn" not in text
    seen = browse(page, tmp_path)
    assert seen == {"images": 3, "undecoded": [], "errors": []}


def test_cli_run_writes_the_report(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL)
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "small.yaml"), "--out", str(out), "--replications", "1",
                 "--quiet"]) == 0
    assert (out / "report.html").exists() and (out / "figures" / "power.png").exists()


@pytest.mark.slow
def test_flagship_report_renders_in_seconds(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    scenario = twin.load(root / "scenarios" / "gigafactory" / "cell_line.yaml")
    results = twin.run(scenario, replications=2, workers=2)
    started = time.perf_counter()
    write_report(results, results.summary(), tmp_path, scenario)
    assert time.perf_counter() - started < 10.0
    assert browse(tmp_path / "report.html", tmp_path)["undecoded"] == []
