"""Cyclic garbage is collected on the GUI thread, never in a media thread."""

from __future__ import annotations

import gc
import threading
import weakref

from ui.gui_thread_gc import GuiThreadGarbageCollector


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_threads_do_not_collect_and_the_timer_does(qtbot) -> None:
    collector = GuiThreadGarbageCollector()
    try:
        assert not gc.isenabled()
        garbage = Node()
        freed = weakref.ref(garbage)
        del garbage

        def make_garbage() -> None:  # what a media thread does all day
            for _ in range(5_000):
                Node()

        worker = threading.Thread(target=make_garbage)
        worker.start()
        worker.join()
        assert freed() is not None  # nobody collected in the other thread
        collector.collect_due()
        assert freed() is None  # the GUI thread did
    finally:
        collector.stop()
    assert gc.isenabled()
