"""A self-contained HTML report (placeholder until the reports issue adds figures)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from twin.report.text import text_summary
from twin.results import write_atomic


def write_report(results, doc: dict[str, Any], out: Path, scenario=None) -> Path:
    """Write report.html into `out`; returns its path."""
    body = html.escape(text_summary(doc))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>twin report: {html.escape(doc['scenario'])}</title></head><body>"
        f"<h1>{html.escape(doc['scenario'])}</h1><pre>{body}</pre>"
        f"<details><summary>summary.json</summary><pre>{html.escape(json.dumps(doc, indent=2))}</pre></details>"
        "</body></html>"
    )
    path = Path(out) / "report.html"
    write_atomic(path, page.encode())
    return path
