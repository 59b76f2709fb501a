"""Worker processes: how many a scan starts, how they are forked and ended, and what they
leave to the main process. Kept apart from the scans that use them, so a small scan imports
none of it.

Each worker is forked with two pipes of its own: calls come in on one, one at a time, and their
answers go out on the other, each a pickle after its length. A thread of the main process hands
the calls out as workers become free and reads the answers. (concurrent.futures' process pool
does the same through multiprocessing's queues, whose import alone took ~13 ms of a ~0.3 s
working-tree scan.)
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from keyguard.errors import InputError, KeyguardError

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any, BinaryIO


def default_jobs() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def ignore_interrupts() -> None:
    """In a worker: Ctrl-C reaches the whole process group, and only the main process reports
    it (exit 130, one line); the workers are ended by it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Call:
    """A call given to the workers: done once its answer, a value or an error, is in."""

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.work: tuple[Callable[..., Any], tuple[Any, ...]] | None = (function, args)  # until sent
        self.answer: tuple[bool, Any, str | None] | None = None  # ok, value or error, traceback

    def done(self) -> bool:
        return self.answer is not None


class WorkerTraceback(Exception):
    """Where in a worker an unexpected error was raised (the cause of the error re-raised)."""


class _Worker:
    def __init__(self, pid: int, calls: BinaryIO, answers: BinaryIO) -> None:
        self.pid = pid
        self.calls = calls
        self.answers = answers
        self.call: Call | None = None  # the call it is working on
        self.reaping = False  # being waited for, or waited for: its pid may be another's now


class Workers:
    """Worker processes, all forked at once: work is given with `submit`, its answer read with
    `answer` or `as_completed`."""

    def __init__(self, jobs: int, initializer: Callable[[], None]) -> None:
        self._workers: list[_Worker] = []
        self._queue: deque[Call] = deque()  # calls no worker has yet
        self._changed = threading.Condition()  # guards the above; notified when a call is done
        self._broken: InputError | None = None
        self._closing = False
        self._wake_read, wake = os.pipe()
        self._wake: int | None = wake  # None once closed
        os.set_blocking(wake, False)  # a full pipe wakes the thread already
        parent = os.getpid()
        # What the workers inherit is never collected: a collection in a worker would walk
        # those objects and write to their headers, copying every page they are on (~9 ms of
        # a 0.24 s working-tree scan). Here they stay frozen too; cycles among them are rare.
        gc.freeze()
        for _ in range(jobs):
            calls_read, calls_write = os.pipe()
            answers_read, answers_write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                for fd in (calls_write, answers_read, self._wake_read, wake,
                           *(f for w in self._workers for f in (w.calls.fileno(), w.answers.fileno()))):
                    os.close(fd)
                _serve(calls_read, answers_write, initializer, parent)
            os.close(calls_read)
            os.close(answers_write)
            # closed by close()
            self._workers.append(_Worker(pid, open(calls_write, "wb"), open(answers_read, "rb")))  # noqa: SIM115
        self._thread = threading.Thread(target=self._hand_out, daemon=True)
        self._thread.start()

    def submit(self, function: Callable[..., Any], *args: Any) -> Call:
        """A call of `function(*args)`, made by the first worker free."""
        call = Call(function, args)
        with self._changed:
            if self._broken is not None:
                raise self._broken
            if self._closing:
                raise RuntimeError("the worker processes are closed")
            self._queue.append(call)
        self._wake_up()
        return call

    def answer(self, call: Call) -> Any:
        """What the call returned, or the error it raised. A worker that died (kill -9, the OOM
        killer) never answers for its work: then an error, the scan being incomplete."""
        with self._changed:
            self._changed.wait_for(call.done)
        assert call.answer is not None
        ok, value, trace = call.answer
        if ok:
            return value
        if trace is None:
            raise value
        raise value from WorkerTraceback(trace)

    def as_completed(self, calls: Iterable[Call]) -> Iterator[Call]:
        """The calls, each once it is done. (Each wake-up looks at every call left: meant for
        the few hundred tasks of a scan, not for many thousands.)"""
        pending = list(calls)
        while pending:
            with self._changed:
                while not any(call.done() for call in pending):
                    self._changed.wait()
            done: list[Call] = []
            left: list[Call] = []
            for call in pending:  # each asked once: one done meanwhile is left for later
                (done if call.done() else left).append(call)
            pending = left
            yield from done

    def close(self, kill: bool = False) -> None:
        """End the workers: at once with `kill`, else once their calls are answered. Can be
        called again, with `kill`, when an interruption cut it short."""
        with self._changed:
            self._closing = True
        self._wake_up()
        if kill:
            self._kill()
        self._thread.join()
        for worker in self._workers:
            with contextlib.suppress(OSError):  # a dead worker's pipe (EPIPE)
                worker.calls.close()  # a worker waiting for a call ends
            worker.answers.close()
        for worker in self._workers:
            self._reap(worker)
        if self._wake is not None:  # not by a first close(): its number may be another file's now
            wake, self._wake = self._wake, None
            os.close(self._wake_read)
            os.close(wake)

    def _wake_up(self) -> None:
        with contextlib.suppress(BlockingIOError):  # full: the thread has wake-ups to read
            if self._wake is not None:
                os.write(self._wake, b".")

    def _kill(self) -> None:
        with self._changed:  # not one _reap waits for: once waited for, its pid may be reused
            for worker in self._workers:
                if not worker.reaping:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(worker.pid, signal.SIGKILL)

    def _reap(self, worker: _Worker, patience: float = 1.0) -> int:
        """Wait for the worker to end, killing it after `patience` seconds (its pipes closed, it
        should be ending); its exit code (0 when another wait had it). Only here is a worker
        waited for, once, and without holding the lock: Ctrl-C and close() are not held up."""
        with self._changed:
            if worker.reaping:
                return 0
            worker.reaping = True
        deadline = time.monotonic() + patience
        while True:
            try:
                pid, status = os.waitpid(worker.pid, os.WNOHANG)
            except ChildProcessError:
                return 0
            if pid:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:  # not waited for yet: the pid is still the worker's
                os.kill(worker.pid, signal.SIGKILL)
                deadline = float("inf")
            time.sleep(0.001)

    def _hand_out(self) -> None:
        """The main process's thread: calls to free workers, answers to their calls."""
        try:
            self._hand_out_until_closed()
        except BaseException as e:  # a fault here must not leave the main process waiting
            self._fail(InputError(f"the worker processes were lost ({e}); the scan is incomplete"))

    def _hand_out_until_closed(self) -> None:
        poll = select.poll()
        poll.register(self._wake_read, select.POLLIN)
        by_fd = {worker.answers.fileno(): worker for worker in self._workers}
        for fd in by_fd:
            poll.register(fd, select.POLLIN)
        while True:
            with self._changed:
                busy = self._queue or any(w.call for w in self._workers)
                if self._closing and (self._broken or not busy):
                    return
                free = [w for w in self._workers if w.call is None][: len(self._queue)]
                for worker in free:
                    worker.call = self._queue.popleft()
            for worker in free:
                self._send(worker)
            for fd, _ in poll.poll():
                if fd == self._wake_read:
                    os.read(fd, 4096)
                    continue
                worker = by_fd[fd]
                message = _read_message(worker.answers)
                if message is None:  # the pipe closed, or a short answer: the worker is gone
                    self._break(worker)
                    return
                try:
                    answer = pickle.loads(message)
                except Exception as e:  # read whole, so the next answer is still in step
                    answer = (False, InputError(f"a worker's answer could not be read: {e}"), None)
                with self._changed:
                    call, worker.call = worker.call, None
                    if call is not None:
                        call.answer = answer
                    self._changed.notify_all()

    def _send(self, worker: _Worker) -> None:
        """The worker's call, pickled only now: a history's plan is not held twice."""
        call = worker.call
        assert call is not None and call.work is not None
        try:
            payload = pickle.dumps(call.work, pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # what cannot be sent fails alone
            with self._changed:
                call.answer, worker.call = (False, e, None), None
                self._changed.notify_all()
            self._wake_up()  # the worker is free for the next call
            return
        call.work = None
        with contextlib.suppress(OSError):  # it died while it waited (EPIPE): its answer pipe says so
            _write_message(worker.calls, payload)

    def _break(self, dead: _Worker) -> None:
        """A worker ended before its work was done: every call not answered fails, the others
        are ended, and the scan is incomplete."""
        code = self._reap(dead)
        killed = ": killed?" if code < 0 else ""
        detail = "" if code in (0, -signal.SIGTERM) else f" (exit code {code}{killed})"
        self._fail(InputError(f"a worker process ended before its work was done{detail}; "
                              "the scan is incomplete"))

    def _fail(self, error: InputError) -> None:
        self._kill()
        with self._changed:
            self._broken = error
            for call in [*self._queue, *(w.call for w in self._workers if w.call)]:
                call.answer = (False, error, None)
            self._queue.clear()
            self._changed.notify_all()


@contextlib.contextmanager
def forked(jobs: int, initializer: Callable[[], None] = ignore_interrupts) -> Iterator[Workers]:
    """`jobs` worker processes, forked now: they inherit what the main process holds at this
    point, and nothing it builds later. They end with the block: at once when it is left by an
    error or Ctrl-C (they ignore Ctrl-C, and would first finish their work), and by themselves
    when the main process is killed. None of them is ever replaced."""
    workers = Workers(jobs, initializer)
    try:
        yield workers
        workers.close()
    except BaseException:  # also Ctrl-C while close() waited for the last calls
        workers.close(kill=True)
        raise


def _serve(calls_fd: int, answers_fd: int, initializer: Callable[[], None], parent: int) -> None:
    """A worker's life: each call read, made, and answered, until the main process closes its
    end (or is gone). Never returns: the main process's stack is not the worker's to unwind."""
    try:
        failed: KeyguardError | None = None
        try:
            initializer()
        except Exception as e:  # raised by each call, so the main process says why in one line
            failed = e if isinstance(e, KeyguardError) else InputError(
                f"a worker process could not start: {e}; the scan is incomplete")
        threading.Thread(target=_end_with, args=(parent,), daemon=True).start()
        with open(calls_fd, "rb") as calls, open(answers_fd, "wb") as answers:
            while (message := _read_message(calls)) is not None:
                _write_message(answers, _answered(message, failed))
    except BaseException:
        os._exit(1)
    os._exit(0)


def _read_message(stream: BinaryIO) -> bytes | None:
    """A message: its length in 8 bytes, then its bytes. None at the end of the stream."""
    head = stream.read(8)
    size = int.from_bytes(head, "little")
    message = stream.read(size) if len(head) == 8 else b""
    return message if len(message) == size and len(head) == 8 else None


def _write_message(stream: BinaryIO, message: bytes) -> None:
    stream.write(len(message).to_bytes(8, "little"))
    stream.write(message)
    stream.flush()


def _answered(message: bytes, failed: KeyguardError | None) -> bytes:
    if failed is not None:
        return pickle.dumps((False, failed, None))
    try:
        function, args = pickle.loads(message)
        return pickle.dumps((True, function(*args), None), pickle.HIGHEST_PROTOCOL)
    except Exception as e:
        import traceback  # only an error pays for it

        trace = None if isinstance(e, KeyguardError) else traceback.format_exc()
        try:
            return pickle.dumps((False, e, trace), pickle.HIGHEST_PROTOCOL)
        except Exception:  # an error that cannot be sent as it is
            return pickle.dumps((False, InputError(f"a worker process failed: {e}"), trace))


def _end_with(parent: int) -> None:
    """A worker's own watch: once its main process is gone (kill -9), nothing will read its
    answers or send it work, so it ends too rather than wait for ever."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
