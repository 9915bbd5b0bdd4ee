"""Confero's version, from the installed package metadata."""

from __future__ import annotations

FALLBACK_VERSION = "0.1.0"


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("confero")
    except PackageNotFoundError:
        return FALLBACK_VERSION
