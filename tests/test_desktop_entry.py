"""The desktop entry makes Confero the handler of matrix: links."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DESKTOP_FILE = ROOT / "resources" / "confero.desktop"


def _entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP_FILE, encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_entry_takes_matrix_links_and_passes_them_on() -> None:
    entry = _entry()
    assert "x-scheme-handler/matrix" in entry["MimeType"].split(";")
    # %u: the desktop puts the clicked link on the command line (ui/app.py's meeting).
    assert entry["Exec"] == "confero %u"


def test_the_linux_packages_install_the_entry_icon_and_metainfo(tmp_path: Path) -> None:
    """What the .deb and the AppImage both put under usr/share (packaging/linux/common.sh)."""
    script = f'. packaging/linux/common.sh && install_desktop_files "{tmp_path}" 9.8.7'
    subprocess.run(["bash", "-c", script], cwd=ROOT, check=True, timeout=30)
    share = tmp_path / "usr" / "share"
    installed = share / "applications" / "confero.desktop"
    assert installed.read_bytes() == DESKTOP_FILE.read_bytes()
    icon = share / "icons" / "hicolor" / "scalable" / "apps" / "confero.svg"
    assert icon.read_bytes() == (ROOT / "resources" / "confero.svg").read_bytes()
    metainfo = (share / "metainfo" / "org.confero.Confero.metainfo.xml").read_text("utf-8")
    assert 'version="9.8.7"' in metainfo and "@VERSION@" not in metainfo
    assert "@DATE@" not in metainfo


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils")
def test_the_entry_is_valid_and_registers_the_scheme(tmp_path: Path) -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(DESKTOP_FILE)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout
    # What the package's postinst (and the dpkg trigger) run on the installed entry.
    applications = tmp_path / "applications"
    applications.mkdir()
    shutil.copy(DESKTOP_FILE, applications / "confero.desktop")
    subprocess.run(["update-desktop-database", str(applications)], check=True, timeout=30)
    cache = (applications / "mimeinfo.cache").read_text(encoding="utf-8")
    assert "x-scheme-handler/matrix=confero.desktop;" in cache.splitlines()
