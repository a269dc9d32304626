"""report.html in a real browser: the reporting pipeline's page (tables of a real grid,
tests/pipelines/reporting/tables.py), opened from disk in headless Debian Chromium;
every figure must load (complete, naturalWidth > 0) and the page must render.

Needs Debian's `chromium` (`make chromium`). The screenshot is kept in
data/08_reporting/report_html_screenshot.png (git-ignored) or in
$MOSAIC_REPORT_ARTEFACT_DIR.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

PROJECT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--allow-file-access-from-files", "--virtual-time-budget=10000"]
# Appended to a copy of the page: lists every image's load state in the DOM.
PROBE = """<script>
window.addEventListener('load', () => {
  const pre = document.createElement('pre'); pre.id = 'image-probe';
  pre.textContent = JSON.stringify([...document.images].map(
    i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth})));
  document.body.appendChild(pre);
});
</script>"""


def _tables():
    name = "reporting_test_tables"
    if name not in sys.modules:
        path = PROJECT / "tests" / "pipelines" / "reporting" / "tables.py"
        spec = importlib.util.spec_from_file_location(name, path)
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make chromium` (apt-get install chromium)")
    run = _tables().run_reporting(tmp_path_factory.mktemp("report") / "08_reporting")
    return run["html"]


def _chromium(target: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, target],
                          capture_output=True, text=True, timeout=180, check=False)


def test_every_figure_loads(report_html, tmp_path):
    probed = tmp_path / "probed.html"  # a copy: the report itself carries no script
    probed.write_text(report_html.read_text().replace("</body>", PROBE + "</body>"))
    result = _chromium(probed.as_uri(), tmp_path / "profile", "--dump-dom")
    found = re.search(r'<pre id="image-probe">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stderr[-2000:]
    images = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(images) == 10
    broken = [i["alt"] for i in images if not i["complete"] or i["width"] == 0]
    assert not broken, f"figures that did not load: {broken}"


def test_screenshot_shows_the_report(report_html, tmp_path):
    artefacts = Path(os.environ.get("MOSAIC_REPORT_ARTEFACT_DIR",
                                    PROJECT / "data" / "08_reporting"))
    artefacts.mkdir(parents=True, exist_ok=True)
    shot = artefacts / "report_html_screenshot.png"
    shot.unlink(missing_ok=True)
    result = _chromium(report_html.as_uri(), tmp_path / "profile", "--window-size=1280,2400",
                       "--hide-scrollbars", f"--screenshot={shot}")
    assert shot.exists(), result.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (2400, 1280)
    assert pixels.std() > 10, "the screenshot is blank"
    assert len(np.unique(pixels)) > 50, "the screenshot has almost no detail"
