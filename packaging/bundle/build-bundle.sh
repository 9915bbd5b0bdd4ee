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
# Byte-compiled caches of the schema scripts would be written at first start.
find dist/confero -name '__pycache__' -type d -prune -exec rm -rf {} +
echo "Built dist/confero/ ($(du -sh dist/confero | cut -f1))"
