"""Confero's Qt user interface: windows, widgets and item models over the engine."""
