#!/usr/bin/env bash
# Installs dist/confero_<version>_<arch>.deb, runs the GUI smoke test on the
# installed /usr/bin/confero under Xvfb, purges the package and checks that none
# of its files is left. Run as root from the repository root, after
# packaging/debian/build-deb.sh: packaging/smoke/deb-smoke.sh [SCREENSHOT.png]
set -euo pipefail
cd "$(dirname "$0")/../.."
shot=${1:-/tmp/confero-deb-smoke.png}
deb=$(ls -t dist/confero_*.deb | head -1)
say() { printf 'deb-smoke: %s\n' "$*"; }

if dpkg-query -W -f '${Status}' confero 2>/dev/null | grep -q installed; then
    say "confero is installed already; remove it first (dpkg --purge confero)"
    exit 1
fi
# apt resolves the Depends the package declares (dpkg -i would not).
apt-get install -y -q "./$deb" >/dev/null
files=$(dpkg -L confero)
say "installed $deb: $(echo "$files" | wc -l) paths, $(du -sh /opt/confero | cut -f1) in /opt/confero"
appstreamcli validate --no-net /usr/share/metainfo/org.confero.Confero.metainfo.xml
desktop-file-validate /usr/share/applications/confero.desktop
status=0
xvfb-run -a -s '-screen 0 1280x800x24' packaging/smoke/gui-smoke.sh /usr/bin/confero "$shot" ||
    status=$?
dpkg --purge confero >/dev/null
# Its files and links must be gone; of its folders only those shared with other
# packages (/usr/share/icons/hicolor/…) may stay.
left=$(echo "$files" | while read -r path; do
    if [ -L "$path" ] || [ -f "$path" ]; then echo "$path"; fi
    case $path in /opt/confero*) [ ! -e "$path" ] || echo "$path" ;; esac
done | sort -u)
[ -z "$left" ] || { say "FAILED: left after purge:"; echo "$left"; exit 1; }
[ ! -e /opt/confero ] || { say "FAILED: /opt/confero is left"; exit 1; }
say "purged; none of its files is left"
exit "$status"
