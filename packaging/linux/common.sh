# Shared by the Linux recipes (debian/build-deb.sh, appimage/build-appimage.sh);
# source it from the repository root after setting `python`.

# The version in pyproject.toml, which the bundle, the packages and About show.
confero_version() {
    "$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])'
}

# Builds the frozen bundle (dist/confero/) if it is missing or "$1" is --rebuild,
# and checks that it is of the version pyproject.toml says.
ensure_bundle() {
    if [ "${1:-}" = --rebuild ] || [ ! -x dist/confero/confero ]; then
        packaging/bundle/build-bundle.sh
    fi
    local version bundled
    version=$(confero_version)
    bundled=$(dist/confero/confero --version)
    [ "$bundled" = "Confero $version" ] || {
        echo "dist/confero is $bundled, pyproject.toml says $version: rebuild with --rebuild" >&2
        return 1
    }
}

# Installs the desktop entry (matrix: links), the icon and the AppStream
# metainfo under ROOT/usr/share, as desktops and software centres look for them.
install_desktop_files() {
    local root=$1 version=$2
    install -D -m 0644 resources/confero.desktop "$root/usr/share/applications/confero.desktop"
    install -D -m 0644 resources/confero.svg "$root/usr/share/icons/hicolor/scalable/apps/confero.svg"
    mkdir -p "$root/usr/share/metainfo"
    sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u +%Y-%m-%d -r pyproject.toml)/" \
        resources/confero.metainfo.xml > "$root/usr/share/metainfo/org.confero.Confero.metainfo.xml"
    chmod 0644 "$root/usr/share/metainfo/org.confero.Confero.metainfo.xml"
}
