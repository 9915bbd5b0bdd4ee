"""The suite never touches the developer's own keyring or data folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from platformdirs import user_config_dir, user_data_dir

from engine.credentials import CredentialStore, StoredSession
from engine.paths import default_data_dir
from tests.conftest import ISOLATED_HOME
from tests.helpers.keyrings import MemoryKeyring, RealKeyringReached, real_backend_classes

ROOT = Path(__file__).resolve().parents[1]
SESSION = StoredSession("http://127.0.0.1:1", "@dana:localhost", "DEVICE", "secret-token")


async def test_the_default_store_writes_to_the_test_keyring(memory_keyring: MemoryKeyring):
    assert keyring.get_keyring() is memory_keyring
    store = CredentialStore()  # what Engine(data_dir) uses when given no store
    await store.save("remote", SESSION)
    assert ("org.confero.Confero", "remote") in memory_keyring.entries
    assert await store.load("remote") == SESSION
    await store.delete("remote")
    assert memory_keyring.entries == {}


def test_every_real_backend_refuses_loudly(real_keyring_hits: list[str]) -> None:
    classes = real_backend_classes()
    assert any(cls.__module__ == "keyring.backends.SecretService" for cls in classes)
    try:
        for cls in classes:
            backend = cls.__new__(cls)  # no __init__: it may probe the OS
            with pytest.raises(RealKeyringReached):
                backend.get_password("org.confero.Confero", "remote")
            with pytest.raises(RealKeyringReached):
                backend.set_password("org.confero.Confero", "remote", "x")
        with pytest.raises(RealKeyringReached):
            keyring.core.init_backend()  # detecting the OS keyring is a leak too
        assert real_keyring_hits, "each refusal is recorded, so even a swallowed one fails"
    finally:
        real_keyring_hits.clear()  # these hits were on purpose


def test_data_folders_point_into_a_temporary_folder() -> None:
    for folder in (
        default_data_dir(),
        Path(user_data_dir("Confero", appauthor=False)),
        Path(user_config_dir("Confero", appauthor=False)),
    ):
        assert folder.is_relative_to(ISOLATED_HOME), folder
    assert "CONFERO_DATA_DIR" not in os.environ


def test_processes_started_by_tests_get_the_test_keyring_and_folders() -> None:
    probe = (
        "import keyring, engine.paths as p; "
        "print(type(keyring.get_keyring()).__qualname__); print(p.default_data_dir())"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    backend, data_dir = result.stdout.split("\n")[:2]
    assert backend == "MemoryKeyring"
    assert Path(data_dir).is_relative_to(ISOLATED_HOME)
