"""The supervisor's decisions (RestartPolicy), failure reasons and log scrubbing: pure parts."""

from __future__ import annotations

from engine.homeserver import scrub_secrets
from engine.homeserver_supervisor import RestartPolicy, SupervisorTiming, explain_failure

TIMING = SupervisorTiming(failures_before_restart=3, backoff_s=(1.0, 2.0, 4.0), stable_after_s=60.0)


def test_hung_only_after_enough_failures_in_a_row() -> None:
    policy = RestartPolicy(TIMING)
    assert not policy.health_checked(False, 0.0)
    assert not policy.health_checked(False, 1.0)
    assert not policy.health_checked(True, 2.0)  # an answer in between starts the count again
    assert not policy.health_checked(False, 3.0)
    assert not policy.health_checked(False, 4.0)
    assert policy.health_checked(False, 5.0)
    assert policy.consecutive_failures == 3


def test_backoff_grows_then_gives_up() -> None:
    policy = RestartPolicy(TIMING)
    assert [policy.next_delay() for _ in range(4)] == [1.0, 2.0, 4.0, None]
    assert policy.attempts == 3
    policy.reset()
    assert policy.next_delay() == 1.0


def test_a_crash_loop_does_not_start_the_backoff_afresh() -> None:
    policy = RestartPolicy(TIMING)
    assert policy.next_delay() == 1.0
    policy.restarted(now=100.0)
    policy.health_checked(True, 110.0)  # up, but not for long
    assert policy.next_delay() == 2.0
    policy.restarted(now=200.0)
    policy.health_checked(True, 261.0)  # up for over a minute: a new death is a new story
    assert policy.next_delay() == 1.0


def test_restart_clears_the_failure_count() -> None:
    policy = RestartPolicy(TIMING)
    for t in range(3):
        policy.health_checked(False, float(t))
    policy.next_delay()
    policy.restarted(now=10.0)
    assert policy.consecutive_failures == 0
    assert not policy.health_checked(False, 11.0)


def test_failure_reasons_from_the_log() -> None:
    port_taken = (
        "CannotListenError: Couldn't listen on 127.0.0.1:8448: [Errno 98] Address already "
        "in use. (Details: /d/homeserver.console.log)"
    )
    assert explain_failure(port_taken, 8448) == "Another program is using its port (8448)."
    assert explain_failure("OSError: [Errno 28] No space left on device") == "The disk is full."
    assert "locked" in explain_failure("sqlite3.OperationalError: database is locked")
    assert "cannot be written" in explain_failure("PermissionError: [Errno 13] Permission denied")
    assert explain_failure("KeyError: 'x'. (Details: f)") == "KeyError: 'x'. (Details: f)"
    assert explain_failure("") == "It stopped without saying why."


def test_scrub_secrets_removes_secrets_and_tokens() -> None:
    text = (
        "shared s3cr3t-value here\n"
        "GET /_matrix/client/v3/sync?access_token=abc.def&since=1\n"
        "Authorization: Bearer syt_YWxpY2U_abcdefg_123\n"
        "token syt_Ym9i_xyz_9 leaked"
    )
    clean = scrub_secrets(text, ["s3cr3t-value"])
    assert "s3cr3t-value" not in clean
    assert "abc.def" not in clean and "access_token=***&since=1" in clean
    assert "syt_" not in clean
    assert clean.count("***") == 4


def test_scrub_secrets_removes_invitation_tokens() -> None:
    text = (
        "link matrix:r/1:h?org.confero.server=h:1&org.confero.token=Ab-9_x&more\n"
        "GET /_matrix/client/v1/register/m.login.registration_token/validity?token=Zz1"
    )
    clean = scrub_secrets(text, [])
    assert "Ab-9_x" not in clean and "Zz1" not in clean
    assert "org.confero.token=***&more" in clean and clean.count("***") == 2
