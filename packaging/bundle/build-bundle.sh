#!/usr/bin/env bash
# Builds Confero's frozen one-folder bundle, dist/confero/ (runs with no Python
# installed: dist/confero/confero). Needs the packaging extra:
#   .venv/bin/pip install -e '.[packaging]'
# Run from anywhere: packaging/bundle/build-bundle.sh
# PYTHON=/path/to/python picks another interpreter (it must see Confero's dependencies).
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-.venv/bin/python}

rm -rf dist/confero
"$python" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/bundle/confero.spec
# Debug symbols are half the size of some libraries (libpython, ICU, Synapse's
# and cryptography's Rust code). Libraries that auditwheel renamed (name-<hash>.so)
# were rewritten by patchelf, and strip breaks those (OpenBLAS fails to load with
# "ELF load command address/offset not page-aligned"); they come stripped anyway.
if [ "$(uname -s)" = Linux ]; then
    find dist/confero -regextype posix-extended -type f \( -name '*.so' -o -name '*.so.*' \) \
        ! -regex '.*-[0-9a-f]{8}(-[0-9a-f]{8})?\.so.*' -print0 |
        xargs -0 strip --strip-unneeded
fi
# Byte-compiled caches of the schema scripts would be written at first start.
find dist/confero -name '__pycache__' -type d -prune -exec rm -rf {} +
# The size cuts (confero.spec, slim.py) must leave everything working: Opus
# through PyAV, WebRTC, Synapse and its thumbnails, notifications, Qt's ICU.
dist/confero/confero --self-check
echo "Built dist/confero/ ($(du -sh dist/confero | cut -f1))"
