"""Overlap video I/O with compute: read the next block and encode the last chunk on background threads.

Decoding (PyAV), the float -> integer conversion and encoding (x264 & co.) release the GIL, as do torch's
kernels, so a reader thread that decodes block ``n + 1`` and a writer thread that encodes chunk ``n - 1`` run
while the model restores chunk ``n``. Each thread holds at most ``depth`` items in its queue, so memory grows by
that many blocks or chunks, not with the video. Errors raised on a thread are raised again, unchanged, in the
caller's thread (at its next read or write, or when the writer is closed).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")

_POLL_S = 0.1  # how often a blocked thread checks whether its consumer or producer has gone
_END = object()  # end of the reader's items


class _Failure:
    """An exception raised on a background thread, carried to the caller's."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Iterate ``items`` with the next ``depth`` of them produced on a background thread.

    The values and their order are those of ``items``; an exception it raises is raised here when its item
    would have come. Closing the returned generator early (``break``, an exception in the loop) stops the
    thread after the item it is producing. ``depth <= 0`` iterates ``items`` in this thread.
    """
    if depth <= 0:
        yield from items
        return
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(_END)
        except BaseException as error:  # noqa: BLE001 - carried to the consumer and raised there
            offer(_Failure(error))

    thread = threading.Thread(target=produce, name="fastvsr-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


class BackgroundWriter(Generic[T]):
    """Calls ``write(item)`` for every :meth:`write` on one background thread, in order, ``depth`` items queued.

    Use as a context manager inside the one that owns the real output: a clean exit waits for every queued
    write and raises the first error a write raised; an exit on an exception drops the queued items and
    stops the thread, so the owner can remove its half-written output. Items must not be changed after they
    are handed over (the restored frames the pipeline yields are not).
    """

    def __init__(self, write: Callable[[T], None], depth: int = 1, name: str = "fastvsr-writer") -> None:
        if depth < 1:
            raise ValueError(f"a background writer needs depth >= 1, got {depth}")
        self._write = write
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if item is _END:
                return
            if self._error is not None or self._stop.is_set():
                continue  # a write failed or the caller gave up: drain without writing
            try:
                self._write(item)  # type: ignore[arg-type]
            except BaseException as error:  # noqa: BLE001 - raised again in the caller's thread
                self._error = error

    def write(self, item: T) -> None:
        """Queue ``item`` (blocks while ``depth`` items wait); raises a previous write's error first."""
        self._raise_error()
        while True:
            if not self._thread.is_alive():
                raise RuntimeError("the background writer has stopped")
            try:
                self._queue.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                self._raise_error()

    def close(self) -> None:
        """Wait for every queued write; raise the first error one raised."""
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()
        self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._stop.set()
            raise error

    def __enter__(self) -> BackgroundWriter[T]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
            return
        self._stop.set()
        self._thread.join()
