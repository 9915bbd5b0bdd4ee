"""The embedded Synapse manager against a real Synapse."""

from __future__ import annotations

import json
import socket
import stat
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

import engine.homeserver as homeserver_mod
from engine.homeserver import (
    EmbeddedHomeserver,
    HomeserverError,
    HomeserverProfile,
    UserExistsError,
)
from tests.helpers.users import TestUser

pytestmark = pytest.mark.integration

# Loopback requests must not go through a proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    try:
        with _opener.open(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _login(base_url: str, user: str, password: str) -> tuple[int, Any]:
    return _http(
        "POST",
        f"{base_url}/_matrix/client/v3/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
        },
    )


def _unique(prefix: str = "hs") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_versions_endpoint_answers(synapse: EmbeddedHomeserver) -> None:
    assert synapse.is_running
    assert synapse.base_url.startswith("http://127.0.0.1:")
    status, body = _http("GET", f"{synapse.base_url}/_matrix/client/versions")
    assert status == 200
    assert "v1.1" in body["versions"]


def test_register_returns_full_user_id(synapse: EmbeddedHomeserver) -> None:
    localpart = _unique()
    user_id = synapse.register_user_blocking(localpart, "pw-1", displayname="Ada Lovelace")
    assert user_id == f"@{localpart}:localhost"
    quoted = urllib.parse.quote(user_id)
    status, body = _http("GET", f"{synapse.base_url}/_matrix/client/v3/profile/{quoted}")
    assert status == 200
    assert body["displayname"] == "Ada Lovelace"


def test_register_same_localpart_twice_raises(synapse: EmbeddedHomeserver) -> None:
    localpart = _unique()
    synapse.register_user_blocking(localpart, "pw-1")
    with pytest.raises(UserExistsError) as info:
        synapse.register_user_blocking(localpart, "pw-2")
    assert localpart in info.value.user_message


async def test_async_register_and_admin_flag(synapse: EmbeddedHomeserver) -> None:
    localpart = _unique("admin")
    user_id = await synapse.register_user(localpart, "pw-admin", admin=True)
    status, login = _login(synapse.base_url, localpart, "pw-admin")
    assert status == 200, login
    req = urllib.request.Request(
        f"{synapse.base_url}/_synapse/admin/v2/users/{urllib.parse.quote(user_id)}",
        headers={"Authorization": f"Bearer {login['access_token']}"},
    )
    with _opener.open(req, timeout=10) as resp:
        assert json.loads(resp.read())["admin"] is True


def test_user_can_log_in_with_password(make_user: Any) -> None:
    user: TestUser = make_user("login", displayname="Login Tester")
    assert user.user_id == f"@{user.localpart}:localhost"
    status, body = _login(user.homeserver_url, user.localpart, user.password)
    assert status == 200, body
    assert body["user_id"] == user.user_id
    assert body["access_token"]
    status, body = _login(user.homeserver_url, user.localpart, user.password + "x")
    assert status == 403
    assert body["errcode"] == "M_FORBIDDEN"


def test_make_user_gives_distinct_users(make_user: Any) -> None:
    a, b = make_user(), make_user()
    assert a.localpart != b.localpart
    assert a.user_id != b.user_id


def test_secrets_stay_out_of_config_and_are_private(synapse: EmbeddedHomeserver) -> None:
    config = (synapse.data_dir / "homeserver.yaml").read_text()
    assert "registration_shared_secret_path" in config
    for name in ("registration_shared_secret", "macaroon_secret_key", "form_secret"):
        secret = (synapse.data_dir / "secrets" / name).read_text().strip()
        assert len(secret) >= 32
        assert secret not in config
        if sys.platform != "win32":
            mode = stat.S_IMODE((synapse.data_dir / "secrets" / name).stat().st_mode)
            assert mode == 0o600
    assert not hasattr(synapse, "registration_shared_secret")


def test_restart_keeps_url_and_data(private_synapse: EmbeddedHomeserver) -> None:
    server = private_synapse
    url = server.base_url
    user_id = server.register_user_blocking("alice", "correct horse")

    server.stop_blocking()
    assert not server.is_running
    server.stop_blocking()  # idempotent
    with pytest.raises(urllib.error.URLError):
        _http("GET", f"{url}/_matrix/client/versions")
    with pytest.raises(HomeserverError):
        server.register_user_blocking("bob", "pw")

    server.start_blocking()
    server.start_blocking()  # idempotent
    assert server.base_url == url
    status, body = _login(server.base_url, "alice", "correct horse")
    assert status == 200, body
    assert body["user_id"] == user_id

    # A fresh object on the same data folder finds the same URL and data.
    server.stop_blocking()
    again = EmbeddedHomeserver(server.data_dir, profile=HomeserverProfile.TEST)
    assert again.base_url == url
    again.start_blocking()
    try:
        assert again.base_url == url
        with pytest.raises(UserExistsError):
            again.register_user_blocking("alice", "other")
    finally:
        again.stop_blocking()


def test_taken_port_is_replaced_and_remembered(private_synapse: EmbeddedHomeserver) -> None:
    server = private_synapse
    old_port = server.port
    server.register_user_blocking("carol", "pw-carol")
    server.stop_blocking()
    with socket.socket() as squatter:
        # REUSEADDR: our old connections may still be in TIME_WAIT on that port.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", old_port))
        squatter.listen()
        server.start_blocking()
    assert server.port != old_port
    state = json.loads((server.data_dir / "state.json").read_text())
    assert state["port"] == server.port
    status, body = _login(server.base_url, "carol", "pw-carol")
    assert status == 200, body


def test_port_conflict_raises_readable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "hs"
    data_dir.mkdir()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        (data_dir / "state.json").write_text(json.dumps({"port": port}))
        # Force the race where the port is taken between our check and Synapse's bind.
        monkeypatch.setattr(homeserver_mod, "_port_is_free", lambda host, port: True)
        server = EmbeddedHomeserver(data_dir, profile=HomeserverProfile.TEST)
        t0 = time.monotonic()
        with pytest.raises(HomeserverError) as info:
            server.start_blocking()
    assert time.monotonic() - t0 < 30
    assert not server.is_running
    message = info.value.user_message
    assert message.startswith("The local meeting server could not start:")
    assert "Address already in use" in message
    assert "Traceback" not in message


def test_corrupt_signing_key_raises_readable_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "hs"
    data_dir.mkdir()
    (data_dir / "signing.key").write_text("this is not a key\n")
    server = EmbeddedHomeserver(data_dir, profile=HomeserverProfile.TEST)
    with pytest.raises(HomeserverError) as info:
        server.start_blocking()
    assert not server.is_running
    message = info.value.user_message
    assert message.startswith("The local meeting server could not start:")
    assert "signing" in message.lower() or "key" in message.lower()
    # The failed start released the data-folder lock: a retry fails the same way.
    with pytest.raises(HomeserverError) as again:
        server.start_blocking()
    assert "another" not in again.value.user_message


def test_data_dir_that_is_a_file_raises(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    server = EmbeddedHomeserver(not_a_dir, profile=HomeserverProfile.TEST)
    with pytest.raises(HomeserverError) as info:
        server.start_blocking()
    assert str(not_a_dir) in info.value.user_message
    server.stop_blocking()  # stopping a never-started server is fine


def test_second_process_on_same_data_dir_is_refused(synapse: EmbeddedHomeserver) -> None:
    other = EmbeddedHomeserver(synapse.data_dir, profile=HomeserverProfile.TEST)
    with pytest.raises(HomeserverError) as info:
        other.start_blocking()
    assert "already running" in info.value.user_message
    assert synapse.is_running


def _directory_finds(server: EmbeddedHomeserver, token: str, term: str) -> list[str]:
    req = urllib.request.Request(
        f"{server.base_url}/_matrix/client/v3/user_directory/search",
        data=json.dumps({"search_term": term}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with _opener.open(req, timeout=10) as resp:
        return [r["user_id"] for r in json.loads(resp.read())["results"]]


def _directory_build_left(server: EmbeddedHomeserver) -> bool:
    import sqlite3

    db = sqlite3.connect(f"file:{server.data_dir / 'homeserver.db'}?mode=ro", uri=True)
    try:
        query = "SELECT 1 FROM background_updates WHERE update_name LIKE 'populate_user_dir%'"
        return db.execute(query).fetchone() is not None
    finally:
        db.close()


def test_accounts_made_right_after_a_first_start_stay_findable(tmp_path: Path) -> None:
    """A fresh server builds its user directory in the background, and that first
    build starts by emptying it: people who signed up between its snapshot of the
    accounts and that moment could never be found by name. Sign people up, one
    every quarter second, through the first seconds of a first start."""
    server = EmbeddedHomeserver(tmp_path / "hs", profile=HomeserverProfile.TEST)
    server.start_blocking()
    try:
        password = uuid.uuid4().hex
        server.register_user_blocking("finder", password)
        _, login = _login(server.base_url, "finder", password)
        signed_up = []
        until = time.monotonic() + 15
        while time.monotonic() < until:
            name = f"early{len(signed_up):03d}"
            signed_up.append(server.register_user_blocking(name, password, displayname=name))
            time.sleep(0.25)
        deadline = time.monotonic() + 120
        while _directory_build_left(server) and time.monotonic() < deadline:
            time.sleep(0.2)  # let a build still running finish, then look
        token = login["access_token"]
        missing = [u for u in signed_up if _directory_finds(server, token, u[1:9]) != [u]]
        assert missing == []
    finally:
        server.stop_blocking()
