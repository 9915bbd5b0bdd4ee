"""``confero --self-check`` passes from source: the checks follow the code they check."""

from __future__ import annotations

import io

from ui import app, self_check


def test_every_check_passes_from_source() -> None:
    out = io.StringIO()
    failed = self_check.run(out)
    lines = out.getvalue().splitlines()
    assert failed == 0, out.getvalue()
    assert lines[-1] == "OK"
    assert len([line for line in lines if line.startswith("self-check: ")]) == len(
        self_check.CHECKS
    )


def test_a_failing_check_is_reported_and_counted(monkeypatch) -> None:
    def check_broken() -> str:
        raise AssertionError("left out of the bundle")

    monkeypatch.setattr(self_check, "CHECKS", [check_broken])
    out = io.StringIO()
    assert self_check.run(out) == 1
    assert "self-check: broken: FAILED" in out.getvalue()
    assert "left out of the bundle" in out.getvalue()
    assert out.getvalue().splitlines()[-1] == "FAILED: 1 of 1"


def test_the_hidden_flag_runs_it_before_the_app(monkeypatch) -> None:
    monkeypatch.setattr(self_check, "main", lambda: 7)
    assert app.main([self_check.SELF_CHECK_FLAG]) == 7
