"""Decoding films in child processes, so a decoder that aborts, panics, hangs or eats memory harms no one.

Image decoders are native code (OpenJPEG, CharLS, GDCM, libjpeg) or Rust (pyo3 plugins) fed with bytes
from other sites' equipment. A malformed codestream can abort the whole process (GDCM on a JPEG 2000
film with three samples per pixel), raise a pyo3 `PanicException` (a `BaseException`, which
`except Exception` does not catch), loop for minutes or allocate gigabytes. Every decode therefore
runs in a worker process of a small pool kept warm (no start-up cost per film) with:

- a memory limit (`RLIMIT_AS` on POSIX) so a blow-up ends in a `MemoryError` inside the worker;
- a time limit: a worker that does not answer in time is killed and replaced;
- `BaseException`-safe handling: whatever the decoder raises comes back as our error.

A worker that dies (a native abort, a signal) is replaced and the film is reported as "This film
cannot be decoded: ..." through `UndecodableFilmError`. The pool is hand-written over
`multiprocessing` connections because `concurrent.futures.ProcessPoolExecutor` can neither kill one
hung task nor survive a crashed worker (the whole pool breaks), and the thread-polling pools add tens
of milliseconds of latency to each film opened.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kyphoangle import errors

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from multiprocessing.process import BaseProcess

    from kyphoangle.dicom.radiograph import Radiograph, RadiographHeader

DEFAULT_WORKERS = 2
"""Worker processes kept warm: one for the film on screen, one for the next (prefetch, import)."""

DEFAULT_MEMORY_LIMIT_BYTES = 4 << 30
"""Address space a worker may use (POSIX): room for the largest accepted film and its decoder buffers."""

DEFAULT_TIME_LIMIT_S = 30.0
"""A decode that takes longer than this is stopped (a 40-megapixel JPEG 2000 film takes about 2 s)."""

_ERROR_TYPES: dict[str, type[errors.RadiographError]] = {
    cls.__name__: cls
    for cls in (
        errors.RadiographError,
        errors.NotDicomError,
        errors.NoPixelDataError,
        errors.UnsupportedEncodingError,
        errors.CorruptPixelDataError,
        errors.NotAnImageError,
        errors.UndecodableFilmError,
        errors.ImportFileError,
    )
}


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a decode probe learnt of a file: its header, and whether its first frame decodes."""

    header: RadiographHeader


def _limit_memory(limit_bytes: int) -> None:
    if limit_bytes <= 0 or sys.platform == "win32":
        return
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = limit_bytes if hard == resource.RLIM_INFINITY else min(limit_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def _serve(connection: multiprocessing.connection.Connection, memory_limit_bytes: int) -> None:
    """The worker's loop: one request in, one answer out, until the parent closes the connection."""
    # Decoders use one thread per worker: the pool is the parallelism, and thread stacks cost address space.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is the parent's to handle
    _limit_memory(memory_limit_bytes)
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        answer = _answer(request)
        try:
            _send(connection, answer)
        except MemoryError:
            _send(connection, ("refused", "UndecodableFilmError", request[1], _MEMORY[2]))
        del answer


_MEMORY = ("refused", "UndecodableFilmError", "decoding it needs more memory than allowed")
"""The refusal sent when the memory limit is reached (the path is added)."""


def _send(connection: multiprocessing.connection.Connection, answer: tuple[Any, ...]) -> None:
    """Send an answer; a film's pixels follow as raw bytes (no pickled copy of a large array)."""
    if answer[0] == "film":
        film = answer[1]
        pixels = np.ascontiguousarray(film.pixels)
        connection.send(("film", replace(film, pixels=_EMPTY), pixels.dtype.str, pixels.shape))
        connection.send_bytes(pixels.reshape(-1).view(np.uint8).data)
    else:
        connection.send(answer)


_EMPTY = np.zeros((0, 0), np.uint8)


def _answer(request: tuple[str, str, int]) -> tuple[Any, ...]:
    kind, path, frame = request
    try:
        if kind == "load":
            from kyphoangle.dicom.reader import load_radiograph

            return ("film", load_radiograph(path, frame=frame))
        from kyphoangle.dicom.reader import probe_radiograph

        header = probe_radiograph(path)
        return ("ok", ProbeResult(header))
    except errors.RadiographError as exc:
        return ("refused", type(exc).__name__, exc.path, exc.reason)
    except MemoryError:
        return ("refused", "UndecodableFilmError", path, _MEMORY[2])
    except BaseException as exc:
        text = " ".join(str(exc).split())[:160] or "no detail"
        return ("refused", "UndecodableFilmError", path, f"the decoder failed ({type(exc).__name__}: {text})")


class _Worker:
    """One warm worker process and the parent's end of its connection."""

    def __init__(self, context: BaseContext, memory_limit_bytes: int) -> None:
        parent_end, child_end = context.Pipe(duplex=True)
        self.connection = parent_end
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(child_end, memory_limit_bytes), daemon=True, name="kyphoangle-decoder"
        )
        self.process.start()
        child_end.close()

    def stop(self, *, kill: bool) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.connection.send(None)
            except OSError:
                self.process.kill()
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)
        self.connection.close()


class DecoderPool:
    """A few warm worker processes that decode films under a memory and a time limit (thread-safe)."""

    def __init__(
        self,
        *,
        workers: int = DEFAULT_WORKERS,
        memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT_BYTES,
        time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    ) -> None:
        if workers < 1:
            raise ValueError("a decoder pool needs at least one worker")
        self.workers = workers
        self.memory_limit_bytes = memory_limit_bytes
        self.time_limit_s = time_limit_s
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(workers):
            self._idle.put(None)  # a slot; its worker is started on first use (or by `warm_up`)

    def warm_up(self) -> None:
        """Start every worker now (e.g. at start-up), so the first film opened pays no start-up."""
        slots = [self._idle.get() for _ in range(self.workers)]
        try:
            slots = [slot or self._start() for slot in slots]
        finally:
            for slot in slots:
                self._idle.put(slot)

    def load(self, path: str | os.PathLike[str], *, frame: int = 0) -> Radiograph:
        """`load_radiograph` in a worker; raises `RadiographError` subclasses, never anything else."""
        film: Radiograph = self._call("load", Path(path), frame)
        return film  # its pixels are a read-only view of the bytes received

    def probe(self, path: str | os.PathLike[str]) -> RadiographHeader:
        """Check the header's sanity (`sanity.header_problems`) and decode the first frame in a worker;
        return the header when both pass, else raise our error with every reason."""
        result: ProbeResult = self._call("probe", Path(path), 0)
        return result.header

    def close(self) -> None:
        """Stop every worker (idle ones at once; busy ones when their decode ends)."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop(kill=True)

    def _start(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise errors.RadiographError(None, "the film decoder has been shut down")
            worker = _Worker(_context(), self.memory_limit_bytes)
            self._all.add(worker)
            return worker

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.stop(kill=True)

    def _call(self, kind: str, path: Path, frame: int) -> Any:
        slot = self._idle.get()
        worker: _Worker | None = None
        try:
            worker = slot or self._start()
            answer = self._exchange(worker, (kind, str(path), frame), path)
        except BaseException:
            if worker is not None:
                self._discard(worker)
            self._idle.put(None)
            raise
        self._idle.put(worker)
        if answer[0] == "ok":
            return answer[1]
        _, name, where, reason = answer
        raise _ERROR_TYPES.get(name, errors.RadiographError)(where, reason)

    def _exchange(self, worker: _Worker, request: tuple[str, str, int], path: Path) -> tuple[Any, ...]:
        connection = worker.connection
        try:
            connection.send(request)
            if not connection.poll(self.time_limit_s):
                raise errors.UndecodableFilmError(
                    path, f"decoding took longer than {self.time_limit_s:g} s and was stopped"
                )
            answer: tuple[Any, ...] = connection.recv()
            if answer[0] == "film":
                _, film, dtype, shape = answer
                data = connection.recv_bytes()
                pixels = np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape)
                answer = ("ok", replace(film, pixels=pixels))
        except (EOFError, OSError, BrokenPipeError):
            worker.process.join(2)
            raise errors.UndecodableFilmError(path, _death(worker.process.exitcode)) from None
        return answer


def _death(exit_code: int | None) -> str:
    if exit_code is not None and exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        return (
            f"the image decoder crashed on it ({name}); the image data is damaged or of an unsupported kind"
        )
    return "the image decoder stopped unexpectedly; the image data is damaged or of an unsupported kind"


def _context() -> BaseContext:
    """Fork server on POSIX (children forked from a clean, Qt-free process with the decoders loaded)."""
    if sys.platform == "win32":
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["kyphoangle.dicom.reader"])
    return context


_SHARED: DecoderPool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool() -> DecoderPool:
    """The process's decoder pool, created on first use and stopped at exit."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = DecoderPool()
            atexit.register(_SHARED.close)
        return _SHARED


def load_radiograph_safely(path: str | os.PathLike[str], *, frame: int = 0) -> Radiograph:
    """`load_radiograph` in the shared pool's worker: a bad film raises our error and harms nothing else."""
    return shared_pool().load(path, frame=frame)


def probe_film(path: str | os.PathLike[str]) -> RadiographHeader:
    """The header of a film whose first frame decodes, checked in the shared pool's worker."""
    return shared_pool().probe(path)
