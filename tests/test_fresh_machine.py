"""`make test` on a fresh machine: Chromium for the browser tests is installed from the project's own
files (tests/browser/ensure-chromium.sh, run by the Makefile before pytest), or the run stops with one
clear line and a non-zero exit; never a skip. apt-get is replaced by a stand-in on PATH here, so nothing
is really installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "tests" / "browser" / "ensure-chromium.sh"


def tools(tmp_path: Path, *names: str) -> str:
    """A PATH holding only the named system tools (and whatever the test writes there)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in names:
        (bin_dir / name).symlink_to(shutil.which(name))
    return str(bin_dir)


def ensure(path: str, chromium: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)],
        env={"PATH": path, "CHROMIUM": str(chromium)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_test_makes_sure_of_chromium_before_running_the_suite():
    plan = subprocess.run(
        ["make", "-n", "test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MAKEFLAGS": ""},
    ).stdout.splitlines()
    ensure_line = plan.index("sh tests/browser/ensure-chromium.sh")
    pytest_line = next(i for i, line in enumerate(plan) if "-m pytest" in line)
    assert ensure_line < pytest_line


def test_present_chromium_needs_nothing(tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    result = ensure(tools(tmp_path, "id"), chromium)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_missing_chromium_is_installed_with_apt_get(tmp_path):
    chromium = tmp_path / "chromium"
    path = tools(tmp_path, "id", "env", "touch", "chmod")
    calls = tmp_path / "apt-calls"
    apt = Path(path) / "apt-get"  # stands in for Debian's: records its arguments, "installs" chromium
    apt.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n'
        f'case "$*" in *install*chromium*) touch {chromium}; chmod 755 {chromium};; esac\n'
    )
    apt.chmod(0o755)
    result = ensure(path, chromium)
    if os.geteuid() == 0:
        assert result.returncode == 0, result.stderr
        assert calls.read_text().splitlines() == ["update -qq", "install -y -qq chromium"]
        assert os.access(chromium, os.X_OK)
    else:  # without root (and no password-less sudo here) it cannot install: it says so and fails
        assert result.returncode == 1


def test_chromium_that_cannot_be_installed_stops_the_run_with_one_line(tmp_path):
    chromium = tmp_path / "chromium"
    result = ensure(tools(tmp_path, "id"), chromium)  # no apt-get on this PATH
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("make test: the browser tests need Chromium at ") and "apt-get install chromium" in line


def test_make_test_makes_sure_of_poppler_before_running_the_suite(tmp_path):
    plan = subprocess.run(
        ["make", "-n", "test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MAKEFLAGS": ""},
    ).stdout.splitlines()
    ensure_line = next(
        i for i, line in enumerate(plan) if line.startswith("sh tests/ensure-debian-package.sh poppler-utils ")
    )
    assert ensure_line < next(i for i, line in enumerate(plan) if "-m pytest" in line)
    # without pdftotext and pdftoppm, and no way to install them: one line naming the package, status 1
    result = subprocess.run(
        [
            "/bin/sh",
            str(ROOT / "tests" / "ensure-debian-package.sh"),
            "poppler-utils",
            "the PDF tests need pdftotext and pdftoppm",
            "pdftotext",
            "pdftoppm",
        ],
        env={"PATH": tools(tmp_path, "id")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("make test: the PDF tests need pdftotext and pdftoppm and it could not be installed")
    assert "apt-get install poppler-utils" in line
