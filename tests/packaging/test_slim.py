"""The bundle's size cuts (packaging/bundle/slim.py) on the real libraries of the wheels."""

from __future__ import annotations

import ctypes
import importlib.util
import shutil
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("readelf", "nm", "cc")
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not all(shutil.which(t) for t in TOOLS),
    reason="the cuts are for Linux ELF files and need binutils and a C compiler",
)


def _slim():
    spec = importlib.util.spec_from_file_location("slim", ROOT / "packaging/bundle/slim.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


slim = _slim()


def _wheel_library(package: str, pattern: str) -> str:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None
    found = sorted(Path(spec.origin).parent.parent.glob(pattern))
    if not found:
        pytest.skip(f"no {pattern} in this {package} wheel")
    return str(found[0])


def _items(blob: bytes) -> dict[str, bytes]:
    header = struct.unpack_from("<H", blob, 0)[0]
    toc = blob[header:]
    count = struct.unpack_from("<I", toc, 0)[0]
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    items = {}
    for i, (name_at, data_at) in enumerate(entries):
        name = toc[name_at : toc.index(b"\0", name_at)].decode().split("/", 1)[-1]
        end = entries[i + 1][1] if i + 1 < count else len(toc)
        items[name] = toc[data_at:end].rstrip(b"\xaa")
    return items


def test_icu_package_keeps_the_items_asked_for_byte_for_byte() -> None:
    library = _wheel_library("PySide6", "PySide6/Qt/lib/libicudata.so.*")
    (symbol,) = [s for s in slim.defined_symbols(library) if s.startswith("icudt")]
    blob = slim._icu_blob(library, symbol)
    same, dropped = slim.filter_icu_package(blob, lambda name: True)
    assert same == blob and dropped == []

    trimmed, dropped = slim.filter_icu_package(blob, lambda name: not name.startswith("lang/"))
    before, after = _items(blob), _items(trimmed)
    assert dropped and all("/lang/" in name for name in dropped)
    assert set(after) == {n for n in before if not n.startswith("lang/")}
    assert all(after[n] == before[n] for n in after)
    assert len(trimmed) < len(blob)


def test_a_stub_answers_its_users_with_the_versions_they_ask_for(tmp_path: Path) -> None:
    # PyAV's ALSA: libavdevice asks for some functions in old ALSA versions.
    alsa = _wheel_library("av", "av.libs/libasound-*.so*")
    user = _wheel_library("av", "av.libs/libavdevice-*.so*")
    stub = slim._stub(slim.soname(alsa), alsa, [user], tmp_path)
    wanted = {s: v for s, v in slim.undefined_versions(user).items() if s.startswith("snd_")}
    defined = slim.defined_symbols(stub)
    assert wanted and all(defined[s] == ("FUNC", v) for s, v in wanted.items())
    assert slim.soname(stub) == slim.soname(alsa)
    assert Path(stub).stat().st_size < Path(alsa).stat().st_size / 10
    function = getattr(ctypes.CDLL(stub), sorted(wanted)[0])
    function.restype = ctypes.c_long
    assert function() == 0


def test_hollowing_leaves_out_what_only_the_stub_needed(tmp_path: Path) -> None:
    gnutls = _wheel_library("av", "av.libs/libgnutls-*.so*")
    nettle = _wheel_library("av", "av.libs/libnettle-*.so*")
    avformat = _wheel_library("av", "av.libs/libavformat-*.so*")
    binaries = [(f"av.libs/{Path(p).name}", p, "BINARY") for p in (gnutls, nettle, avformat)]
    out, gone = slim.hollow_libraries(binaries, ["av.libs/libgnutls"], tmp_path)
    assert gone == {f"av.libs/{Path(nettle).name}"}
    assert [e[1] for e in out] == [str(tmp_path / slim.soname(gnutls)), avformat]
    links = [(Path(nettle).name, f"av.libs/{Path(nettle).name}", "SYMLINK")]
    assert slim.without_links_to(links, gone) == []
