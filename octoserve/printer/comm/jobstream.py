"""Streaming a job through the connection: start, pause, resume, cancel, and knowing when it is done."""
from octoserve.printer.comm.sendqueue import Lane
from octoserve.printer.comm.state import State


class JobStreaming:
    """Mixed into Connection: the job's side of the lock, the send queue and the state machine."""

    def start_job(self, source, on_done) -> None:
        """Stream job lines from ``source()`` (None at the end); ``on_done()`` once the printer has them all.

        "All" is proven by a numbered M400 after the last line getting a real ok: a faked ok
        (after a timeout) can retire a line the firmware never took, but the firmware answers
        the M400 with a resend request for any line it is missing.
        """
        with self.lock:
            self._set_state(State.PRINTING)
            self._job_done = on_done
            self._final_line = None
            self.queue.put("M110 N0", Lane.COMMAND, numbered=True)
            self._saved_source = self._job_source(source)
            self.queue.set_job_source(self._saved_source)
            self.pump()

    def _job_source(self, source):
        def next_line():
            line = source()
            while line is not None and not line.strip():
                line = source()
            if line is not None:
                return line.strip()
            self._queue_final_line()
            return None
        return next_line

    def _queue_final_line(self) -> None:
        if self.machine.state is State.PRINTING:
            self._set_state(State.FINISHING)
        self.queue.put("M400", Lane.JOB, numbered=True)
        self._final_line = "pending"

    def acknowledged(self, out, real: bool) -> None:
        """Called for every retired line; finishes the job on the real ok of its final M400."""
        if out is None or self._final_line is None or out.lane is not Lane.JOB or out.command != "M400":
            return
        if not real:
            self._queue_final_line()  # a faked ok proves nothing: ask again
            return
        done, self._job_done, self._final_line = self._job_done, None, None
        self._set_state(State.OPERATIONAL)
        if done:
            done()

    def pause_job(self, on_paused=None) -> None:
        with self.lock:
            self._set_state(State.PAUSING)
            self.queue.set_job_source(None)
            self.queue.put_marker(lambda: self._after_drain(State.PAUSED, on_paused))
            self.pump()

    def resume_job(self) -> None:
        with self.lock:
            self._set_state(State.RESUMING)
            self.queue.set_job_source(self._saved_source)
            self._set_state(State.PRINTING)
            self.pump()

    def cancel_job(self, on_cancelled=None) -> None:
        with self.lock:
            self._set_state(State.CANCELLING)
            self.queue.clear(Lane.JOB)
            self._job_done = self._final_line = self._saved_source = None
            self.queue.put_marker(lambda: self._after_drain(State.OPERATIONAL, on_cancelled))
            self.pump()

    def abandon_job(self) -> None:
        """The printer lost the job (it reset): back to OPERATIONAL without sending anything."""
        self._job_done = self._final_line = self._saved_source = None
        if self.machine.state is not State.CANCELLING:
            self._set_state(State.CANCELLING)
        self._set_state(State.OPERATIONAL)
        self.listener.on_job_abandoned()

    def _after_drain(self, state, callback) -> None:
        self._set_state(state)
        if callback:
            callback()
