"""Guards against defects of the Qt binding that crash the app rather than fail a test."""

import sys

from PySide6.QtGui import QFont


def test_void_calls_do_not_leak_references_to_none():
    # PySide6 6.12.0 dropped a reference to None on every void call; CPython 3.11
    # then aborts ("none_dealloc") after a few thousand repaints.
    font = QFont()
    before = sys.getrefcount(None)
    for _ in range(1000):
        font.setBold(True)
    assert sys.getrefcount(None) >= before - 10
