"""Background work (decoding films, importing files) on the Qt thread pool, reported by signals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.error_report import logged_unexpected_error
from app.film import load_film
from kyphoangle.dicom.decoder_pool import shared_pool
from kyphoangle.errors import KyphoangleError
from kyphoangle.workstation.records import ImportReport, ReadService


class _Relay(QObject):
    """Lives in the GUI thread; worker threads emit through it (queued to the GUI thread)."""

    finished = Signal(int, object)
    failed = Signal(int, str)
    progressed = Signal(int, int, int, str)


class _Task(QRunnable):
    def __init__(
        self, token: int, relay: _Relay, work: Callable[[], Any], describe: Callable[[BaseException], str]
    ):
        super().__init__()
        self.token, self.relay, self.work, self.describe = token, relay, work, describe

    def run(self) -> None:
        try:
            result = self.work()
        except KyphoangleError as exc:
            self.relay.failed.emit(self.token, str(exc))
        except BaseException as exc:  # a pyo3 PanicException is a BaseException
            # An unexpected failure must still reach the user, not kill the thread or the application.
            self.relay.failed.emit(self.token, self.describe(exc))
        else:
            self.relay.finished.emit(self.token, result)


class FilmLoader(QObject):
    """Decodes films in a worker thread; only the latest request is reported."""

    film_loaded = Signal(object, object)
    """(path, film) when the latest requested film is decoded."""
    load_failed = Signal(object, str)
    """(path, message) when it cannot be read."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._finished)
        self._relay.failed.connect(self._failed)
        self._token = 0
        self._paths: dict[int, Path] = {}
        self.pool = QThreadPool.globalInstance()
        # Start the decoder workers now, so the first film opened pays no process start-up.
        threading.Thread(target=shared_pool().warm_up, name="decoder-warm-up", daemon=True).start()

    def load(self, path: str | Path) -> None:
        """Start decoding `path`; an earlier request still running is ignored when it ends."""
        self._token += 1
        target = Path(path)
        self._paths = {self._token: target}
        self.pool.start(
            _Task(
                self._token,
                self._relay,
                lambda: load_film(target),
                lambda exc: f"{target.name}: cannot be opened ({exc.__class__.__name__}: {exc})",
            )
        )

    @property
    def busy(self) -> bool:
        """Whether a requested film is still decoding."""
        return self._token in self._paths

    def _finished(self, token: int, film: object) -> None:
        path = self._paths.pop(token, None)
        if path is not None:
            self.film_loaded.emit(path, film)

    def _failed(self, token: int, message: str) -> None:
        path = self._paths.pop(token, None)
        if path is not None:
            self.load_failed.emit(path, message)


class ImportRunner(QObject):
    """Runs `ReadService.import_paths` in a worker thread with progress and cancel."""

    progressed = Signal(int, int, str)
    """(done, total, file name)."""
    import_finished = Signal(object)
    """The ImportReport."""
    import_failed = Signal(str)
    """A message when the import stopped on an error."""

    def __init__(self, store: ReadService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._cancel = threading.Event()
        self._relay = _Relay(self)
        self._relay.finished.connect(lambda _token, report: self.import_finished.emit(report))
        self._relay.failed.connect(lambda _token, message: self.import_failed.emit(message))
        self._relay.progressed.connect(
            lambda _token, done, total, name: self.progressed.emit(done, total, name)
        )

    def start(self, paths: list[str]) -> None:
        """Import in the background."""
        self._cancel.clear()

        def work() -> ImportReport:
            return self.store.import_paths(
                paths,
                lambda done, total, name: self._relay.progressed.emit(0, done, total, name),
                self._cancel.is_set,
            )

        QThreadPool.globalInstance().start(_Task(0, self._relay, work, lambda exc: f"Import stopped: {exc}"))

    def cancel(self) -> None:
        """Ask the import to stop after the current file (what was imported so far is kept)."""
        self._cancel.set()


class FilmPrefetcher(QObject):
    """Decodes the films to read next in worker threads and keeps them until asked for (a small cache)."""

    prefetched = Signal(object)
    """The path of a film now decoded and waiting."""

    def __init__(self, capacity: int = 3, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self._relay = _Relay(self)
        self._relay.finished.connect(self._finished)
        self._relay.failed.connect(self._failed)
        self._token = 0
        self._running: dict[int, Path] = {}
        self._ready: dict[Path, object] = {}

    def prefetch(self, paths: list[str | Path]) -> None:
        """Decode these films (the next ones first) unless they are ready or decoding; forget others."""
        wanted = [Path(p) for p in paths][: self.capacity]
        self._ready = {p: film for p, film in self._ready.items() if p in wanted}
        for path in wanted:
            if path in self._ready or path in self._running.values():
                continue
            self._token += 1
            self._running[self._token] = path
            self.pool_start(self._token, path)

    def pool_start(self, token: int, path: Path) -> None:
        """Queue one decode on the global thread pool."""
        QThreadPool.globalInstance().start(
            _Task(token, self._relay, lambda: load_film(path), lambda exc: f"{exc.__class__.__name__}")
        )

    def keep(self, path: str | Path, film: object) -> None:
        """Put back a decoded film that was taken but not used (it stays ready for `take`)."""
        self._ready[Path(path)] = film

    def take(self, path: str | Path) -> object | None:
        """The decoded film of `path` (removed from the cache), or None when it is not ready."""
        return self._ready.pop(Path(path), None)

    def is_ready(self, path: str | Path) -> bool:
        """Whether the film of `path` is decoded and waiting."""
        return Path(path) in self._ready

    @property
    def busy(self) -> bool:
        """Whether a film is still decoding."""
        return bool(self._running)

    def _finished(self, token: int, film: object) -> None:
        path = self._running.pop(token, None)
        if path is not None:
            self._ready[path] = film
            self.prefetched.emit(path)

    def _failed(self, token: int, _message: str) -> None:
        # A film that cannot be decoded is opened normally later, which reports the error then.
        self._running.pop(token, None)


class BackgroundCall(QObject):
    """Runs one call at a time in a worker thread (e.g. a signature: the password check is slow on
    purpose) and reports its result or our error's message in the GUI thread."""

    succeeded = Signal(object)
    """The call's result."""
    failed = Signal(str)
    """The message of the error that stopped it."""

    def __init__(self, parent: QObject | None = None, *, doing: str = "background work") -> None:
        super().__init__(parent)
        self.doing = doing
        """What the call does, in words, for the log when it fails unexpectedly."""
        self._relay = _Relay(self)
        self._relay.finished.connect(lambda _token, result: self._done(result, None))
        self._relay.failed.connect(lambda _token, message: self._done(None, message))
        self.running = False
        self.pool = QThreadPool.globalInstance()

    def start(self, work: Callable[[], Any]) -> None:
        """Start `work`; refused while an earlier call runs."""
        if self.running:
            raise RuntimeError("a background call is already running")
        self.running = True
        self.pool.start(_Task(0, self._relay, work, lambda exc: logged_unexpected_error(exc, self.doing)))

    def _done(self, result: object, message: str | None) -> None:
        self.running = False
        if message is None:
            self.succeeded.emit(result)
        else:
            self.failed.emit(message)
