"""Size cuts inside the libraries that wheels carry, for the Linux bundle (confero.spec).

Every cut here is computed from what the bundle's ELF files really link (readelf,
nm), so a new wheel version changes the result instead of silently breaking it:

- ``hollow_libraries``: a library that must stay loadable (another library NEEDs
  it) but whose code Confero never runs is replaced by a stub with the same
  SONAME that defines exactly the functions the rest of the bundle imports
  from it, each returning 0.
- ``trim_icu_data``: Qt's ICU data library loses the data of the ICU services
  that nothing in the bundle calls (the guard checks the imported symbols).
- ``same_library_twice``: one file for two copies of a library with the same
  name and build ID (auditwheel put one into each wheel).

Needs binutils (readelf, nm) and a C compiler (``cc``) on the build machine.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterable
from pathlib import Path

# A PyInstaller TOC entry: (destination name, source path, type code).
Entry = tuple[str, str, str]


def _run(*command: str | Path) -> str:
    done = subprocess.run([str(c) for c in command], check=True, capture_output=True, text=True)
    return done.stdout


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def soname(path: str) -> str | None:
    match = re.search(r"\(SONAME\)\s+Library soname: \[(.+?)\]", _run("readelf", "-dW", path))
    return match.group(1) if match else None


def build_id(path: str) -> str | None:
    match = re.search(r"Build ID: ([0-9a-f]+)", _run("readelf", "-nW", path))
    return match.group(1) if match else None


@functools.cache
def undefined_versions(path: str) -> dict[str, str]:
    """Name -> the symbol version asked for ("" for none) of what ``path`` imports."""
    lines = _run("nm", "-D", "--undefined-only", path).splitlines()
    wanted: dict[str, str] = {}
    for line in lines:
        if line.strip():
            name, _, version = line.split()[-1].partition("@")
            wanted[name] = version.lstrip("@")
    return wanted


def undefined_symbols(path: str) -> frozenset[str]:
    return frozenset(undefined_versions(path))


def defined_symbols(path: str) -> dict[str, tuple[str, str]]:
    """Name -> (ELF symbol type: FUNC, OBJECT…, symbol version or "") of what ``path`` exports."""
    symbols: dict[str, tuple[str, str]] = {}
    for line in _run("readelf", "--dyn-syms", "-W", path).splitlines():
        fields = line.split()
        # Num: Value Size Type Bind Vis Ndx Name[@[@]version]
        defined = len(fields) >= 8 and fields[0].endswith(":") and fields[6] != "UND"
        if defined and fields[4] in ("GLOBAL", "WEAK"):
            name, _, version = fields[7].partition("@")
            symbols[name] = (fields[3], version.lstrip("@"))
    return symbols


def _elf_entries(binaries: Iterable[Entry]) -> list[Entry]:
    return [b for b in binaries if b[2] == "BINARY" and is_elf(b[1])]


def _stem(name: str) -> str:
    """``av.libs/libx265-f5385bb8.so.216`` -> ``libx265``."""
    base = Path(name).name.split(".so")[0]
    return re.sub(r"-[0-9a-f]{8}$", "", base)


@functools.cache
def needed(path: str) -> tuple[str, ...]:
    return tuple(
        re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", _run("readelf", "-dW", path))
    )


def _stub(name: str, path: str, users: list[str], workdir: Path) -> str:
    """A library named ``name`` defining, as functions returning 0 and with the same
    symbol versions, what ``users`` import of the library at ``path``."""
    exported = defined_symbols(path)
    imported = sorted(set().union(*(undefined_symbols(u) for u in users)) & set(exported))
    not_functions = [s for s in imported if exported[s][0] not in ("FUNC", "IFUNC")]
    if not_functions:
        raise SystemExit(
            f"slim: cannot stub {name}: its users import data {not_functions}; "
            "take it off the hollow list"
        )
    source = workdir / f"{name}.stub.c"
    source.write_text(
        f"/* Stand-in for {name}: loadable, with nothing inside. */\n"
        + "".join(f"long {symbol}(void) {{ return 0; }}\n" for symbol in imported),
        "utf-8",
    )
    # The version each user asks for (ALSA exports some functions in several).
    asked: dict[str, set[str]] = {}
    for user in users:
        for symbol, version in undefined_versions(user).items():
            if symbol in exported:
                asked.setdefault(symbol, set()).add(version)
    twice = [s for s, v in asked.items() if len(v) > 1]
    if twice:
        raise SystemExit(f"slim: cannot stub {name}: {twice} asked for in two versions")
    versions: dict[str, list[str]] = {}
    for symbol in imported:
        versions.setdefault(asked[symbol].pop(), []).append(symbol)
    flags = []
    if any(versions):  # the users ask for versioned symbols (GnuTLS's GNUTLS_3_4…)
        script = workdir / f"{name}.map"
        script.write_text(
            "".join(
                f"{version or 'STUB'} {{ global: {'; '.join(symbols)}; }};\n"
                for version, symbols in versions.items()
            ),
            "utf-8",
        )
        flags.append(f"-Wl,--version-script={script}")
    stub = workdir / name
    _run("cc", "-shared", "-fPIC", "-O2", "-s", f"-Wl,-soname,{name}", *flags, "-o", stub, source)
    print(f"slim: {name} -> stub of the {len(imported)} functions its users import")
    return str(stub)


def hollow_libraries(
    binaries: list[Entry], stems: Iterable[str], workdir: Path
) -> tuple[list[Entry], set[str]]:
    """``binaries`` with each library named in ``stems`` (``av.libs/libx265`` for
    ``…/av.libs/libx265-f5385bb8.so.216``) replaced by a stub for the libraries
    that NEED it, and without the libraries that only those needed (whose
    destination names come second)."""
    wanted = set(stems)
    paths = {e[1] for e in _elf_entries(binaries)}
    by_soname = {soname(p) or Path(p).name: p for p in paths}
    stubs: dict[str, str] = {}  # source path -> stub path
    for name, path in by_soname.items():
        if f"{Path(path).parent.name}/{_stem(name)}" in wanted:
            users = [p for p in paths if name in needed(p) and p != path]
            stubs[path] = _stub(name, path, users, workdir)
    found = {f"{Path(p).parent.name}/{_stem(soname(p) or Path(p).name)}" for p in stubs}
    for missing in sorted(wanted - found):
        print(f"slim: WARNING: no {missing} in the bundle (a new wheel?): nothing to stub")
    # What only the replaced libraries needed goes too (GnuTLS's nettle, gmp…).
    reached: set[str] = set()
    todo = [n for path in stubs for n in needed(path)]
    while todo:
        name = todo.pop()
        if name in by_soname and by_soname[name] not in reached:
            reached.add(by_soname[name])
            todo += needed(by_soname[name])
    gone: set[str] = set()
    while True:
        live = paths - gone - set(stubs)
        still_needed = {n for p in live for n in needed(p)}
        orphans = {
            p
            for name, p in by_soname.items()
            if p in reached and p in live and name not in still_needed
        }
        if not orphans:
            break
        for p in sorted(orphans):
            print(f"slim: {Path(p).name} left out: only stubbed libraries needed it")
        gone |= orphans
    out: list[Entry] = []
    removed: set[str] = set()
    for entry in binaries:
        if entry[1] in gone:
            removed.add(entry[0])
        else:
            out.append((entry[0], stubs.get(entry[1], entry[1]), entry[2]))
    return out, removed


def without_links_to(toc: list[Entry], removed: set[str]) -> list[Entry]:
    """``toc`` without PyInstaller's SYMLINK entries (libnettle-….so -> av.libs/…)
    that would point to a file in ``removed``."""

    def dangling(entry: Entry) -> bool:
        target = os.path.normpath(os.path.join(os.path.dirname(entry[0]), entry[1]))
        return entry[2] == "SYMLINK" and target in removed

    return [e for e in toc if not dangling(e)]


# ICU data trees and items, and the ICU C functions (name prefixes) that read them.
# An item is dropped only when no ELF file of the bundle outside ICU imports any of them.
ICU_UNUSED = {
    "brkitr/": ("ubrk_", "u_strToTitle", "ucasemap_toTitle", "ucasemap_utf8ToTitle"),
    "unit/": ("umeas", "unumf_", "unum_", "uplrules_"),
    "curr/": ("ucurr_", "unum_", "unumf_"),
    "lang/": ("uloc_getDisplay", "uldn_"),
    "region/": ("uloc_getDisplay", "uldn_", "uregion_"),
    "translit/": ("utrans_",),
    "rbnf/": ("unum_", "unumf_"),
    "unames.icu": ("u_charName", "u_charFromName", "u_enumCharNames"),
    "confusables.cfu": ("uspoof_",),
    "uts46.nrm": ("uidna_",),
    ".spp": ("usprep_", "uidna_"),
}


def _icu_users_of(prefixes: tuple[str, ...], imported: set[str]) -> list[str]:
    return sorted(s for s in imported if s.startswith(prefixes))


def _icu_blob(path: str, symbol: str) -> bytes:
    """The bytes of the data symbol ``symbol`` (ICU's common data) in ``path``."""
    value = size = None
    for line in _run("nm", "-D", "-S", "--defined-only", path).splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[3] == symbol:
            value, size = int(fields[0], 16), int(fields[1], 16)
    if value is None or size is None:
        raise SystemExit(f"slim: no {symbol} in {path}")
    for line in _run("readelf", "-SW", path).splitlines():
        match = re.search(r"\]\s+\S+\s+PROGBITS\s+([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)", line)
        if match:
            address, offset, length = (int(g, 16) for g in match.groups())
            if address <= value < address + length:
                with open(path, "rb") as f:
                    f.seek(offset + value - address)
                    return f.read(size)
    raise SystemExit(f"slim: {symbol} of {path} is in no section")


def filter_icu_package(blob: bytes, keep) -> tuple[bytes, list[str]]:
    """An ICU common data package (.dat, "CmnD") with only the items ``keep(name)`` accepts.

    Layout (ICU's ucmndata.h): a DataHeader of ``headerSize`` bytes, then the
    table of contents: uint32 count, count x (uint32 nameOffset, uint32
    dataOffset), both relative to the table; names sorted (ICU searches them
    binarily); each item is 16-byte aligned and runs to the next one.
    """
    header_size = struct.unpack_from("<H", blob, 0)[0]
    if blob[2:4] != b"\xda\x27" or blob[8] != 0 or blob[12:16] != b"CmnD":
        raise SystemExit("slim: not a little-endian ICU common data package")
    toc = blob[header_size:]
    count = struct.unpack_from("<I", toc, 0)[0]
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_at, data_at) in enumerate(entries):
        name = toc[name_at : toc.index(b"\0", name_at)]
        end = entries[i + 1][1] if i + 1 < count else len(toc)
        items.append((name, toc[data_at:end]))
    kept = [(n, d) for n, d in items if keep(n.decode("ascii").split("/", 1)[-1])]
    dropped = [n.decode("ascii") for n, _ in items if (n, _) not in kept]

    def pad16(data: bytearray) -> None:
        data.extend(b"\xaa" * (-len(data) % 16))  # as ICU pads

    names = bytearray()
    offsets = []
    table_size = 4 + 8 * len(kept)
    for name, _ in kept:
        offsets.append(table_size + len(names))
        names.extend(name + b"\0")
    body = bytearray(struct.pack("<I", len(kept)))
    data_start = table_size + len(names)
    data_start += -data_start % 16  # names padded to 16 below
    data = bytearray()
    for i, (_, item) in enumerate(kept):
        body.extend(struct.pack("<II", offsets[i], data_start + len(data)))
        data.extend(item)
        pad16(data)
    body.extend(names)
    pad16(body)
    return bytes(blob[:header_size]) + bytes(body) + bytes(data), dropped


def trim_icu_data(binaries: list[Entry], workdir: Path) -> list[Entry]:
    """``binaries`` with Qt's libicudata rebuilt without the data nothing here reads."""
    elves = _elf_entries(binaries)
    icu = [e for e in elves if Path(e[0]).name.startswith("libicudata.so")]
    if not icu:
        return binaries
    (entry,) = icu
    users = [e[1] for e in elves if not Path(e[0]).name.startswith("libicu")]
    imported = {
        re.sub(r"_\d+$", "", s)
        for u in users
        for s in undefined_symbols(u)
        if re.search(r"_\d+$", s)
    }
    droppable = [item for item, apis in ICU_UNUSED.items() if not _icu_users_of(apis, imported)]
    for item, apis in ICU_UNUSED.items():
        if item not in droppable:
            print(f"slim: ICU {item} kept: used through {_icu_users_of(apis, imported)}")

    def keep(name: str) -> bool:
        return not any(
            name.startswith(item) if item.endswith("/") else name.endswith(item)
            for item in droppable
        )

    (symbol,) = [s for s in defined_symbols(entry[1]) if re.fullmatch(r"icudt\d+_dat", s)]
    blob, dropped = filter_icu_package(_icu_blob(entry[1], symbol), keep)
    name = soname(entry[1]) or Path(entry[0]).name
    data_file = workdir / f"{symbol}.dat"
    data_file.write_bytes(blob)
    assembly = workdir / f"{symbol}.S"
    assembly.write_text(
        "\t.section .rodata\n\t.balign 16\n"
        f"\t.globl {symbol}\n\t.type {symbol}, @object\n\t.size {symbol}, {len(blob)}\n"
        f'{symbol}:\n\t.incbin "{data_file}"\n'
        '\t.section .note.GNU-stack,"",@progbits\n',
        "utf-8",
    )
    library = workdir / name
    _run("cc", "-shared", "-nostdlib", f"-Wl,-soname,{name}", "-o", str(library), str(assembly))
    print(f"slim: {entry[0]}: {len(dropped)} ICU data items left out ({', '.join(droppable)})")
    return [(e[0], str(library), e[2]) if e is entry else e for e in binaries]


def same_library_twice(binaries: list[Entry]) -> tuple[list[Entry], list[Entry]]:
    """(binaries, symlinks): of the copies of a library with the same file name and
    build ID (the same build: auditwheel put one into each wheel, and padding by
    patchelf can make one 100 times the other), the smallest file stays and the
    others become relative symlinks to it."""
    groups: dict[tuple[str, str], list[Entry]] = {}
    for entry in binaries:
        if entry[2] == "BINARY" and "/" in entry[0] and is_elf(entry[1]):
            key = (Path(entry[0]).name, build_id(entry[1]) or entry[1])
            groups.setdefault(key, []).append(entry)
    replaced: dict[Entry, Entry] = {}
    for copies in groups.values():
        kept = min(copies, key=lambda e: Path(e[1]).stat().st_size)
        for entry in copies:
            if entry is not kept:
                up = Path(*[".."] * (len(Path(entry[0]).parts) - 1))
                replaced[entry] = (entry[0], str(up / kept[0]), "SYMLINK")
                print(f"slim: {entry[0]} -> symlink to {kept[0]}")
    out = [e for e in binaries if e not in replaced]
    return out, list(replaced.values())


def have_tools() -> bool:
    return all(shutil.which(tool) for tool in ("readelf", "nm", "cc"))
