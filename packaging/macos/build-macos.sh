#!/usr/bin/env bash
# Builds Confero for macOS: dist/Confero.app in dist/Confero-<version>-<arch>.dmg,
# signed with a Developer ID, notarized and stapled when the credentials are set.
# Run on a Mac, from anywhere: packaging/macos/build-macos.sh
#
#   PYTHON=/path/to/python3.11  the Python that makes .venv (default: python3.11;
#                               use python.org's installer: Homebrew's Python is
#                               built for the running macOS only)
#   CONFERO_CODESIGN_IDENTITY   "Developer ID Application: Your Name (TEAMID)" (a
#                               placeholder: `security find-identity -v -p codesigning`
#                               lists yours); unset: signed ad hoc, not notarized
#   CONFERO_NOTARY_PROFILE      a notarytool keychain profile, made once with
#                                 xcrun notarytool store-credentials confero-notary \
#                                   --apple-id you@example.com --team-id TEAMID
#                               (it asks for an app-specific password of that Apple ID);
#                               unset: not notarized
#
# One architecture per build, the Mac's own (arm64 or x86_64): the wheels of
# NumPy, aiortc/PyAV and Synapse are not universal2.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(uname -s)" != Darwin ]; then
    echo "build-macos.sh builds on macOS only (Xcode's command-line tools: codesign, hdiutil, xcrun)" >&2
    exit 1
fi
python=${PYTHON:-python3.11}
identity=${CONFERO_CODESIGN_IDENTITY:-}
profile=${CONFERO_NOTARY_PROFILE:-}

# --- 1. The virtual environment --------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --upgrade pip
.venv/bin/python -m pip install -e '.[packaging]'
version=$(.venv/bin/python -c \
    'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
arch=$(uname -m)
echo "Confero $version for $arch"

# --- 2. Confero.app, signed by PyInstaller ------------------------------------------------
# confero.spec's BUNDLE step makes dist/Confero.app; with CONFERO_CODESIGN_IDENTITY
# PyInstaller signs every library, the executable and then the bundle with it,
# with the hardened runtime, a secure timestamp and confero.entitlements.
rm -rf dist/confero dist/Confero.app
CONFERO_CODESIGN_IDENTITY="$identity" .venv/bin/python -m PyInstaller --noconfirm \
    --log-level WARN --distpath dist --workpath build/pyinstaller packaging/bundle/confero.spec
app=dist/Confero.app
exe=$app/Contents/MacOS/confero

plist_version=$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$app/Contents/Info.plist")
if [ "$plist_version" != "$version" ]; then
    echo "Info.plist says $plist_version, pyproject.toml $version" >&2
    exit 1
fi
plutil -lint "$app/Contents/Info.plist"
# The app and its embedded meeting server (the same executable) both start.
[ "$("$exe" --version)" = "Confero $version" ]
grep -q "Synapse Homeserver" <<<"$("$exe" --run-homeserver $$ --help)"
codesign --verify --deep --strict --verbose=2 "$app"
# The entitlements of packaging/macos/confero.entitlements are in the signature.
codesign --display --entitlements - --xml "$exe" | grep -q com.apple.security.device.audio-input
echo "Built $app ($(du -sh "$app" | cut -f1))"

notarize() {  # notarize FILE: submit, wait for Apple's verdict, show its log on failure
    local result=build/notarytool-result.plist id status
    xcrun notarytool submit "$1" --keychain-profile "$profile" --wait \
        --output-format plist >"$result" || true  # the verdict is read below
    id=$(/usr/libexec/PlistBuddy -c 'Print :id' "$result" 2>/dev/null || true)
    status=$(/usr/libexec/PlistBuddy -c 'Print :status' "$result" 2>/dev/null || true)
    if [ "$status" != Accepted ]; then
        cat "$result" >&2
        if [ -n "$id" ]; then
            xcrun notarytool log "$id" --keychain-profile "$profile" >&2
        fi
        echo "notarization of $1: ${status:-not submitted} (submission ${id:-none})" >&2
        exit 1
    fi
    echo "notarized $1 (submission $id)"
}

# --- 3. Notarizing the app (so that a copy in /Applications opens offline too) -----------
if [ -n "$identity" ] && [ -n "$profile" ]; then
    ditto -c -k --keepParent "$app" build/Confero-notarize.zip
    notarize build/Confero-notarize.zip
    xcrun stapler staple "$app"
    rm build/Confero-notarize.zip
elif [ -n "$identity" ]; then
    echo "warning: CONFERO_NOTARY_PROFILE is not set: not notarized (Gatekeeper will refuse it on other Macs)" >&2
else
    echo "warning: CONFERO_CODESIGN_IDENTITY is not set: signed ad hoc, runs on this Mac only" >&2
fi

# --- 4. The disk image: Confero.app and a link to /Applications to drag it onto -----------
dmg=dist/Confero-$version-$arch.dmg
staging=build/dmg
rm -rf "$staging" "$dmg"
mkdir -p "$staging"
ditto "$app" "$staging/Confero.app"  # ditto keeps the signature's extended attributes
ln -s /Applications "$staging/Applications"
hdiutil create -volname "Confero $version" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$dmg"
rm -rf "$staging"
if [ -n "$identity" ]; then
    codesign --sign "$identity" --timestamp "$dmg"
fi
if [ -n "$identity" ] && [ -n "$profile" ]; then
    notarize "$dmg"
    xcrun stapler staple "$dmg"
    xcrun stapler validate "$dmg"
    spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
fi
echo "Built $dmg"
