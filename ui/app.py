"""Confero's entry point (``confero``): command line, QApplication, the qasync loop.

Start-up speed matters, so this module imports only the standard library at
import time. Qt comes next, the first window is shown, and only then does the
event loop start and the engine (matrix-nio, Synapse) get imported.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

# Taken as early as possible: the fallback origin of the start-up timings.
_IMPORT_PERF = time.perf_counter()
_IMPORT_WALL = time.time()

if TYPE_CHECKING:
    from ui.controller import AppController
    from ui.quit_signals import QuitSignals
    from ui.single_instance import SingleInstance

#: The longest the whole shutdown may take before Confero exits anyway.
SHUTDOWN_TIMEOUT_S = 30.0

log = logging.getLogger("confero")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="confero",
        description="Chat and meet with colleagues over the open Matrix protocol.",
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help="use this computer as the meeting server (skips the welcome screen)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="PATH",
        help="keep Confero's data (settings, local server) in PATH instead of the default",
    )
    parser.add_argument(
        "meeting",
        nargs="?",
        help="a meeting link or 7-digit meeting ID to join once signed in",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log more details to standard error"
    )
    return parser


def parse_arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Confero's options, and the rest for Qt (``-style fusion``, ``-platform …``).

    argparse would take the value of a Qt option for the meeting argument
    (``-style fusion`` makes "fusion" a meeting); such values go back to Qt.
    """
    args, rest = build_parser().parse_known_args(argv)
    if args.meeting is None:
        return args, rest
    qt_args: list[str] = []
    candidates: list[str] = []
    previous = ""
    for token in argv:
        if token in rest or token == args.meeting:
            is_value = previous.startswith("-") and "=" not in previous and previous in rest
            if token.startswith("-") or is_value:
                qt_args.append(token)
            else:
                candidates.append(token)
        previous = token
    args.meeting = candidates[-1] if candidates else None
    qt_args += candidates[:-1]
    return args, qt_args


def main(argv: list[str] | None = None) -> int:
    """Run Confero; returns the process exit status."""
    argv = sys.argv[1:] if argv is None else argv
    from engine import synapse_launcher  # standard library only: cheap

    if argv[:1] == [synapse_launcher.RUN_HOMESERVER_FLAG]:
        # The frozen bundle's embedded server: the same executable runs Synapse,
        # before Qt or anything of the app's is imported.
        synapse_launcher.main(argv[1:])
        return 0
    from ui import self_check  # standard library only: cheap

    if argv[:1] == [self_check.SELF_CHECK_FLAG]:
        # Hidden: the bundle's build runs it to prove its size cuts broke nothing.
        return self_check.main()
    args, qt_args = parse_arguments(argv)
    if args.version:
        from ui.version import version

        print(f"Confero {version()}")
        return 0
    # Before anything slow: a SIGTERM from now on means a clean shutdown.
    from ui.quit_signals import QuitSignals

    signals = QuitSignals()
    signals.install()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # matrix-nio warns about every error response it validates (an unknown
        # profile, say); the engine turns those into messages for the user.
        logging.getLogger("nio").setLevel(logging.ERROR)
    try:
        return _run_gui(args, qt_args, signals)
    finally:
        signals.uninstall()


def _run_gui(args: argparse.Namespace, qt_args: list[str], signals: QuitSignals) -> int:
    from engine.paths import default_data_dir
    from ui.single_instance import SingleInstance, hand_over

    data_dir = args.data_dir.expanduser() if args.data_dir else default_data_dir()
    instance = SingleInstance(data_dir)
    if not instance.claim():
        # Confero already runs on this data folder: it joins the link and comes forward.
        if hand_over(data_dir, args.meeting):
            return 0
        print("Confero is already running but does not answer.", file=sys.stderr)
        return 1
    try:
        return _run_app(args, qt_args, signals, instance, data_dir)
    finally:
        instance.release()


def _run_app(
    args: argparse.Namespace,
    qt_args: list[str],
    signals: QuitSignals,
    instance: SingleInstance,
    data_dir: Path,
) -> int:
    import asyncio

    from PySide6.QtWidgets import QApplication

    from ui import theme
    from ui.startup_timing import StartupTimer

    timer = StartupTimer.from_environment(_IMPORT_PERF, _IMPORT_WALL)
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    assert isinstance(app, QApplication)
    app.setApplicationName("Confero")
    app.setOrganizationName("Confero")
    app.setDesktopFileName("confero")
    # Closing a window asks the controller to quit, so the server stops cleanly first.
    app.setQuitOnLastWindowClosed(False)
    signals.wake_qt()
    if signals.requested:  # asked to quit before anything was started
        return 0
    theme.apply(app)

    from ui.gui_thread_gc import GuiThreadGarbageCollector

    GuiThreadGarbageCollector(app)  # before any media thread can run a collection

    instance.listen()
    from ui.controller import AppController

    controller = AppController(data_dir, local=args.local, timer=timer, meeting=args.meeting)
    instance.link_received.connect(controller.open_link)
    from ui.open_url_events import OpenUrlEvents

    OpenUrlEvents(app).link_received.connect(controller.open_link)  # macOS: matrix: links
    controller.show_first_window()
    app.processEvents()
    timer.mark("first_window_shown")

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            loop.run_until_complete(_run(controller, signals))
    except KeyboardInterrupt:
        return 130
    return 0


async def _run(controller: AppController, signals: QuitSignals) -> None:
    """Start up, wait for the quit request, then shut down cleanly."""
    import asyncio

    quit_event = asyncio.Event()
    controller.quit_requested.connect(quit_event.set)
    signals.on_request(quit_event.set)  # at once if a signal came during start-up

    startup: asyncio.Future[None] | None = None
    if not quit_event.is_set():
        startup = asyncio.ensure_future(controller.start())
        startup.add_done_callback(_log_failure)
        await quit_event.wait()
    if startup is not None and not startup.done():
        startup.cancel()
    try:
        await asyncio.wait_for(controller.shutdown(), SHUTDOWN_TIMEOUT_S)
    except TimeoutError:
        log.error("shutting down took longer than %.0f s; quitting anyway", SHUTDOWN_TIMEOUT_S)


def _log_failure(task: object) -> None:
    import asyncio

    assert isinstance(task, asyncio.Future)
    if not task.cancelled() and task.exception() is not None:
        log.error("start-up failed", exc_info=task.exception())


if __name__ == "__main__":
    sys.exit(main())
