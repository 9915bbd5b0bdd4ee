"""Confero's engine: conferencing state and the Matrix adapter, with no Qt inside.

Importing this package is cheap on purpose; matrix-nio is only imported by
``engine.engine`` so the UI can show its first window before paying for it.
"""
