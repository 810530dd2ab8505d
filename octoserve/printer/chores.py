"""Chores: work the comm thread hands off (history writes, anything that touches the disk), done in order
on a thread of their own, so that the comm thread never waits on a disk."""
import logging
import queue
import threading

log = logging.getLogger(__name__)


class Chores:
    """One worker thread and an unbounded queue of callables; a failing chore is logged, never raised."""

    def __init__(self, name: str = "chores"):
        self._queue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, chore) -> None:
        """Queue ``chore()``; returns at once."""
        self._queue.put(chore)

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until everything submitted so far is done (for shutdown and tests)."""
        done = threading.Event()
        self._queue.put(done.set)
        return done.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self.wait(timeout)
        self._queue.put(None)

    def _run(self) -> None:
        while True:
            chore = self._queue.get()
            if chore is None:
                return
            try:
                chore()
            except Exception:
                log.exception("a background chore failed")
