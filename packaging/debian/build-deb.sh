#!/usr/bin/env bash
# Builds dist/confero_<version>_all.deb: Confero's wheel plus every dependency as
# wheels (an offline wheelhouse); the package's postinst makes a private virtual
# environment in /opt/confero from them, so installing needs no network.
# Run from the repository root after scripts/setup: packaging/debian/build-deb.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

version=$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/confero_${version}_all"

mkdir -p "$root/DEBIAN" "$root/opt/confero/wheels" "$root/usr/bin" \
    "$root/usr/share/applications" "$root/usr/share/icons/hicolor/scalable/apps"
.venv/bin/python -m pip wheel -q -w "$root/opt/confero/wheels" .
install -m 0644 resources/confero.desktop "$root/usr/share/applications/confero.desktop"
install -m 0644 resources/confero.svg "$root/usr/share/icons/hicolor/scalable/apps/confero.svg"
cat > "$root/usr/bin/confero" <<'LAUNCHER'
#!/bin/sh
exec /opt/confero/venv/bin/confero "$@"
LAUNCHER
chmod 0755 "$root/usr/bin/confero"

sed "s/@VERSION@/$version/" packaging/debian/control.in > "$root/DEBIAN/control"
install -m 0755 packaging/debian/postinst "$root/DEBIAN/postinst"
install -m 0755 packaging/debian/prerm "$root/DEBIAN/prerm"

mkdir -p dist
dpkg-deb --root-owner-group --build "$root" "dist/confero_${version}_all.deb"
echo "Built dist/confero_${version}_all.deb"
