"""A data folder keeps its Matrix server name (README: "Hosting meetings for other computers")."""

from __future__ import annotations

import json
from pathlib import Path

from engine.homeserver import EmbeddedHomeserver


def test_a_new_folder_takes_the_name_it_is_given(tmp_path: Path) -> None:
    assert EmbeddedHomeserver(tmp_path / "new").server_name == "localhost"
    assert EmbeddedHomeserver(tmp_path / "new", server_name="x.example").server_name == "x.example"


def test_a_folder_keeps_its_remembered_name(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(json.dumps({"port": 1234, "server_name": "first"}))
    (tmp_path / "homeserver.db").write_bytes(b"")
    assert EmbeddedHomeserver(tmp_path, server_name="second").server_name == "first"


def test_a_folder_from_before_names_were_remembered_stays_localhost(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(json.dumps({"port": 1234}))
    (tmp_path / "homeserver.db").write_bytes(b"")
    assert EmbeddedHomeserver(tmp_path, server_name="desk.local").server_name == "localhost"
