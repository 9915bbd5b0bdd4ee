#!/usr/bin/env bash
# Builds dist/Confero-<version>-<arch>.AppImage, one file that runs Confero on a
# current Linux distribution without installing anything: our AppImage runtime
# (packaging/appimage/runtime, built here) followed by a SquashFS image of an
# AppDir made from the frozen bundle (dist/confero/, built first when it is
# missing or --rebuild is given). The AppDir carries the system libraries the
# bundle links that a host may lack; those the AppImage community leaves to the
# host (packaging/appimage/excludelist: glibc, libstdc++, the graphics driver
# stack, X11/xcb, Wayland, fontconfig, GLib, D-Bus, OpenSSL, libpulse...) stay out.
# Needs gcc, make, squashfs-tools and libsquashfuse-dev libfuse3-dev libzstd-dev
# zlib1g-dev liblzma-dev liblz4-dev liblzo2-dev (see packaging/README.md).
# Run from the repository root: packaging/appimage/build-appimage.sh [--rebuild]
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-.venv/bin/python}
. packaging/linux/common.sh

ensure_bundle "${1:-}"
version=$(confero_version)
arch=$(uname -m)
here=$PWD
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
appdir="$stage/Confero.AppDir"
app="$appdir/usr/lib/confero"
libs="$app/_internal" # on LD_LIBRARY_PATH: the bundle's executable puts it there

# --- The runtime; its ELF size is where the image will start -----------------
runtime=build/appimage/runtime
make -s -C packaging/appimage/runtime OUT="$here/$runtime" 2> >(grep -v "Using 'dlopen'\|fuse_get_module" >&2)
[ "$("$runtime" --appimage-offset)" = "$(stat -c %s "$runtime")" ] || {
    echo "the runtime's own ELF size is not its file size: the image would start at the wrong byte" >&2
    exit 1
}

# --- The AppDir ----------------------------------------------------------------
mkdir -p "$appdir/usr/lib" "$appdir/usr/share/doc/confero"
cp -a dist/confero "$app"
# No shell in between: the bundle's executable finds its files through /proc/self/exe.
ln -s usr/lib/confero/confero "$appdir/AppRun"
install_desktop_files "$appdir" "$version"
# An AppImage's desktop entry sits at the top of the AppDir (desktop integration
# tools such as AppImageLauncher rewrite Exec= to the AppImage; TryExec would
# hide the entry as there is no confero on PATH).
sed -i '/^TryExec=/d' "$appdir/usr/share/applications/confero.desktop"
sed "/^\[Desktop Entry\]/a X-AppImage-Version=$version" \
    "$appdir/usr/share/applications/confero.desktop" > "$appdir/confero.desktop"
cp resources/confero.svg "$appdir/confero.svg"
ln -s confero.svg "$appdir/.DirIcon"

# --- System libraries the bundle needs that a host may not have -----------------
# Every soname the bundle's ELF files load, as the dynamic loader resolves them
# with the bundle's own folder first; the system's ones by soname.
mapfile -d '' elves < <(find "$app" -type f \( -name '*.so*' -o -path "$app/confero" \) -print0)
declare -A system_path=()
while read -r soname path; do
    system_path[$soname]=$path
done < <(printf '%s\0' "${elves[@]}" | LD_LIBRARY_PATH="$libs" xargs -0 ldd 2>/dev/null |
    awk -v app="$app" '$2 == "=>" && $3 ~ /^\// && index($3, app) != 1 { print $1, $3 }' | sort -u)
excluded=$(sed 's/#.*//; s/[[:space:]]//g; /^$/d' packaging/appimage/excludelist)
is_excluded() { grep -qxF -- "$1" <<<"$excluded"; }
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
# Follow NEEDED entries from the bundle through the libraries copied, not
# through excluded ones (the host's copy of those brings what they need).
declare -A copied=()
mapfile -t queue < <(for elf in "${elves[@]}"; do needed "$elf"; done | sort -u)
while [ ${#queue[@]} -gt 0 ]; do
    soname=${queue[0]}
    queue=("${queue[@]:1}")
    path=${system_path[$soname]:-}
    [ -n "$path" ] && [ -z "${copied[$soname]:-}" ] && ! is_excluded "$soname" || continue
    copied[$soname]=$path
    mapfile -t -O ${#queue[@]} queue < <(needed "$path")
done
: >"$stage/packages"
for soname in $(printf '%s\n' "${!copied[@]}" | sort); do
    path=${copied[$soname]}
    cp -L "$path" "$libs/$soname"
    chmod 0644 "$libs/$soname"
    real=$(readlink -f "$path")
    # dpkg knows a file by the path its package ships (/lib or /usr/lib, merged /usr).
    pkg=$({ dpkg -S "$real" || dpkg -S "${real#/usr}"; } 2>/dev/null | head -1 | cut -d: -f1) || pkg=
    printf '%s %s %s\n' "$soname" "${pkg:-?}" \
        "$([ -n "$pkg" ] && dpkg-query -W -f '${Version}' "$pkg" 2>/dev/null)" >>"$stage/packages"
    if [ -n "$pkg" ] && [ -f "/usr/share/doc/$pkg/copyright" ]; then
        install -D -m 0644 "/usr/share/doc/$pkg/copyright" "$appdir/usr/share/doc/$pkg/copyright"
    fi
done
{
    printf 'Confero %s, frozen with PyInstaller, as an AppImage. usr/lib/confero/_internal\n' "$version"
    printf 'holds the bundled libraries and their metadata (licences in their *.dist-info\n'
    printf 'folders). These system libraries come from %s, their licences in\n' \
        "$(. /etc/os-release && echo "$PRETTY_NAME")"
    printf 'usr/share/doc/<package>/copyright:\n\n'
    awk '{ printf "  %-26s %-20s %s\n", $1, $2, $3 }' "$stage/packages"
} >"$appdir/usr/share/doc/confero/README"
chmod -R u+rwX,go+rX,go-w "$appdir"

# What the host must have: the newest glibc and libstdc++ symbol versions asked for.
newest() { printf '%s\0' "${elves[@]}" "${copied[@]}" | xargs -0 objdump -T 2>/dev/null |
    grep -o "$1_[0-9.]*" | sort -uV | tail -1; }
glibc=$(newest GLIBC)
glibcxx=$(newest GLIBCXX)

# --- The image and the AppImage ---------------------------------------------------
mksquashfs "$appdir" "$stage/image" -root-owned -noappend -comp zstd -no-progress -quiet
mkdir -p dist
out="dist/Confero-$version-$arch.AppImage"
cat "$runtime" "$stage/image" >"$out.tmp"
chmod 0755 "$out.tmp"
mv "$out.tmp" "$out"
echo "Built $out ($(du -h "$out" | cut -f1); AppDir $(du -sh "$appdir" | cut -f1))"
echo "Bundled from the system (${#copied[@]}): $(printf '%s\n' "${!copied[@]}" | sort | tr '\n' ' ')"
echo "The host needs ${glibc/_/ } or newer, libstdc++ with ${glibcxx:-no C++}, and the libraries in packaging/appimage/excludelist"
