#!/usr/bin/env bash
# Builds dist/confero_<version>_<arch>.deb from the frozen bundle (dist/confero/,
# made by packaging/bundle/build-bundle.sh, which this runs first when the bundle
# is missing or --rebuild is given). The package installs the bundle in
# /opt/confero, /usr/bin/confero, the desktop entry (matrix: links), the icon and
# the AppStream metainfo; its Depends are what the bundle's ELF files link from
# the system, as dpkg-shlibdeps finds them. No maintainer script builds anything.
# Run from the repository root: packaging/debian/build-deb.sh [--rebuild]
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-.venv/bin/python}
. packaging/linux/common.sh

ensure_bundle "${1:-}"
version=$(confero_version)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"

mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/doc/confero"
cp -a dist/confero "$root/opt/confero"
ln -s /opt/confero/confero "$root/usr/bin/confero"
install_desktop_files "$root" "$version"
printf 'Confero %s, frozen with PyInstaller; see /opt/confero/_internal for the\nbundled libraries and their metadata (licences in their *.dist-info folders).\n' \
    "$version" > "$root/usr/share/doc/confero/README"
install -m 0755 packaging/debian/preinst "$root/DEBIAN/preinst"
# dpkg refuses group/other-writable files; PyInstaller keeps the wheels' modes.
chmod -R u+rwX,go+rX,go-w "$root"

# Depends: the system libraries every ELF file in the bundle links, by package.
# The bundle's own libraries (-l) are no dependency; libpulse is opened with
# ctypes (pasimple, pulsectl), so no ELF file names it and it is added by hand.
mkdir -p "$stage/debian"
printf 'Source: confero\n\nPackage: confero\nArchitecture: any\n' > "$stage/debian/control"
mapfile -d '' elves < <(find "$root/opt/confero" -type f \( -name '*.so*' -o -path '*/confero/confero' \) -print0)
libdirs=$(find "$root/opt/confero" -type f -name '*.so*' -printf '-l%h\n' | sort -u)
# shellcheck disable=SC2086
shlibs=$(cd "$stage" && dpkg-shlibdeps -O --ignore-missing-info $libdirs "${elves[@]}" 2>"$stage/shlibdeps.log" |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { cat "$stage/shlibdeps.log" >&2; echo "dpkg-shlibdeps found nothing" >&2; exit 1; }
depends="$shlibs, libpulse0"
size=$(du -sk --apparent-size "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    -e "s/@DEPENDS@/$depends/" packaging/debian/control.in > "$root/DEBIAN/control"

mkdir -p dist
deb="dist/confero_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "Built $deb ($(du -h "$deb" | cut -f1); installed $((size / 1024)) MiB)"
echo "Depends: $depends"
