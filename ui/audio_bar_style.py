"""The look shared by the call bar and the meeting audio bar.

Fixed pale colours with dark text, like the banners, so both read the same in
light and dark palettes; a red button ends (Hang up, Leave audio), a green one
answers.
"""

from __future__ import annotations

#: (background, border, text)
Colours = tuple[str, str, str]
LIVE: Colours = ("#dff3e4", "#7cc48f", "#0d3319")
STARTING: Colours = ("#dbe9ff", "#8fb6f2", "#0b2a5b")  # ringing, joining
HELD: Colours = ("#fff1b8", "#e2bd3a", "#3d2f00")
ENDED: Colours = ("#ececec", "#b5b5b5", "#222222")

_RED = ("#c42b1c", "#a3221a", "#3d0000")
_GREEN = ("#1e7b34", "#16602a", "#062b10")


def bar_style_sheet(
    bar: str, label: str, colours: Colours, *, red: str, green: str | None = None
) -> str:
    """Style sheet of the QFrame named ``bar`` with its text label and buttons."""
    background, border, text = colours
    sheet = f"""
        QFrame#{bar} {{
            background: {background};
            border: 1px solid {border};
            border-radius: 6px;
        }}
        QLabel#{label} {{ color: {text}; background: transparent; border: none;
            font-weight: bold; }}
        QFrame#{bar} QPushButton {{
            color: {text};
            background: rgba(255, 255, 255, 0.6);
            border: 1px solid {border};
            border-radius: 4px;
            padding: 3px 12px;
        }}
        QFrame#{bar} QPushButton:hover {{ background: rgba(255, 255, 255, 0.9); }}
        QFrame#{bar} QPushButton:focus {{ border: 2px solid {text}; }}
        QFrame#{bar} QPushButton:disabled {{ color: #5e5e5e; }}
        """
    for name, (fill, edge, focus) in ((red, _RED), (green, _GREEN)):
        if name:
            sheet += f"""
        QFrame#{bar} QPushButton#{name} {{
            color: #ffffff; background: {fill}; border-color: {edge}; }}
        QFrame#{bar} QPushButton#{name}:hover {{ background: {edge}; }}
        QFrame#{bar} QPushButton#{name}:focus {{ border: 2px solid {focus}; }}
        """
    return sheet
