"""Run the function's handler in-process, the way Lambda runs it: containers, one event at a time each.

A container is one import of the handler's code (handler/ at the zip root, `import app`), made
with the function's environment variables, plus one worker thread. Lambda never gives a
container two events at once, and the handler keeps per-event state in module globals (the
Powertools resolver's current event), so each container serves one invocation at a time;
concurrency comes from several containers, each a separate import of the same files.

Timeouts: the function's own Timeout ends an invocation as Lambda does (an error: API Gateway
answers 502); the integration's timeout (29 s) ends the wait for it (504). A thread cannot be
killed, so a timed-out container is abandoned (its thread finishes on its own) and replaced.

Concurrency: Lambda never queues a synchronous invocation; when the function's concurrency is
used up it refuses it (429 TooManyRequestsException), and API Gateway answers that 500 ("If the
Lambda API rejects the invocation request, API Gateway returns a 500 error code", AWS Lambda
Developer Guide, "Handling Lambda errors with an API Gateway API"). The local containers are
fewer and slower than Lambda's, so a request waits for a free one, first come first served, but
no longer than `queue_wait_s` after it arrived (the caller's `queued_since`: time spent waiting
for a server thread counts too); past that the invocation is refused so (ConcurrencyExhausted).
"""
from __future__ import annotations

import importlib
import os
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from blueprint.local.gateway.events import json_round_trip

# Imports swap entries of the process-wide sys.modules and os.environ: one at a time.
_IMPORT_LOCK = threading.Lock()
# How long a request waits for a busy function's container before it is refused as Lambda
# would refuse it. Long enough for the cold starts of a burst (each import takes ~0.3 s, one at
# a time) and a queue of warm calls; short against the 29 s integration timeout.
QUEUE_WAIT_S = 3.0


class HandlerLoadError(Exception):
    """The handler could not be imported (Lambda's Runtime.ImportModuleError); the message says why."""


class FunctionError(Exception):
    """The invocation failed: the handler raised, or returned something Lambda cannot serialise."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail


class FunctionTimeout(FunctionError):
    """The function ran past its own Timeout (Lambda: "Task timed out")."""


class IntegrationTimeout(Exception):
    """API Gateway stopped waiting (the integration's TimeoutInMillis, 29 s at most)."""


class ConcurrencyExhausted(Exception):
    """Every container stayed busy for the queue wait: Lambda's throttle of the invocation (429
    TooManyRequestsException, "Rate Exceeded."), which API Gateway answers 500."""


class LambdaContext:
    """The context object Lambda passes the handler (the attributes Powertools reads)."""

    def __init__(self, function_name: str, memory_mb: int, arn: str, deadline: float):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _own_module_names(code_dir: Path) -> set[str]:
    names = {p.stem for p in code_dir.glob("*.py")}
    names |= {p.name for p in code_dir.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    return names


def load_handler(code_dir: Path, handler: str, environ: Mapping[str, str | None]) -> Callable[[Any, Any], Any]:
    """A fresh import of `module.function` from code_dir, private to the caller.

    The process's sys.modules entries with the handler's module names (for instance the
    handler tests' own `app`) are set aside during the import and put back afterwards, so
    several containers, and other users of the same names, never share module state.
    """
    module_name, _, func_name = handler.rpartition(".")
    if not module_name:
        raise HandlerLoadError(f"Handler {handler!r} must be module.function")
    own = _own_module_names(code_dir)
    with _IMPORT_LOCK:
        # The handler reads its configuration (and boto3 its endpoint and credentials) at import:
        # the function's environment is in place for the import and put back afterwards, so the
        # caller's process is unchanged (blueprint.serve sets it for good, as Lambda's process has it).
        previous = {k: os.environ.get(k) for k in environ}
        for k, v in environ.items():
            if v is None:
                os.environ.pop(k, None)  # None: not set for the function (the caller's AWS session)
            else:
                os.environ[k] = v
        saved = {n: sys.modules.pop(n) for n in list(sys.modules) if n.split(".")[0] in own}
        sys.path.insert(0, str(code_dir))
        importlib.invalidate_caches()
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - any import failure is the function's, reported as Lambda would
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f" ({Path(frame.filename).name}:{frame.lineno})" if frame else ""
            raise HandlerLoadError(f"cannot import {module_name!r} from {code_dir}{where}: "
                                   f"{type(exc).__name__}: {exc}") from None
        finally:
            for n in [n for n in sys.modules if n.split(".")[0] in own]:
                del sys.modules[n]
            sys.modules.update(saved)
            sys.path.remove(str(code_dir))
            for k, v in previous.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    func = getattr(module, func_name, None)
    if not callable(func):
        raise HandlerLoadError(f"{module_name}.py has no function {func_name!r} (the template's Handler is {handler!r})")
    return func


class _Job:
    __slots__ = ("event", "context", "done", "result", "error", "detail")

    def __init__(self, event: Any, context: LambdaContext):
        self.event, self.context = event, context
        self.done = threading.Event()
        self.result: Any = None
        self.error: str | None = None
        self.detail = ""


class _Container:
    def __init__(self, func: Callable[[Any, Any], Any], number: int):
        self.func = func
        self._jobs: list[_Job] = []
        self._ready = threading.Condition()
        self.thread = threading.Thread(target=self._work, name=f"lambda-container-{number}", daemon=True)
        self.thread.start()

    def submit(self, job: _Job) -> None:
        with self._ready:
            self._jobs.append(job)
            self._ready.notify()

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._jobs:
                    self._ready.wait()
                job = self._jobs.pop(0)
            try:
                job.result = json_round_trip(self.func(job.event, job.context))
            except Exception as exc:  # noqa: BLE001 - the function's failure becomes an invocation error
                job.error = f"{type(exc).__name__}: {exc}"
                job.detail = traceback.format_exc()
            job.done.set()


class _Waiter:
    """A request queued for a container: given one that was released, or leave to start a new one."""

    __slots__ = ("ready", "container", "start_new")

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.container: _Container | None = None
        self.start_new = False


class LambdaRuntime:
    """Invoke one function's handler in-process with its timeout and at most `max_containers` at once."""

    def __init__(self, code_dir: Path, handler: str, *, environ: Mapping[str, str | None], function_name: str,
                 function_arn: str, memory_mb: int, timeout_s: float, max_containers: int = 4,
                 queue_wait_s: float = QUEUE_WAIT_S):
        self.code_dir = Path(code_dir)
        self.handler = handler
        self.environ = dict(environ)
        self.function_name, self.function_arn = function_name, function_arn
        self.memory_mb, self.timeout_s = memory_mb, timeout_s
        self.max_containers = max(1, max_containers)
        self.queue_wait_s = queue_wait_s
        self._idle: list[_Container] = []
        self._waiters: deque[_Waiter] = deque()
        self._count = 0  # containers alive or being started (a slot handed to a waiter stays counted)
        self._made = 0
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start one container now, so an import error shows at start-up rather than on the first call."""
        with self._lock:
            self._count += 1
        self._release(self._start_container())

    def _new_container(self) -> _Container:
        func = load_handler(self.code_dir, self.handler, self.environ)
        self._made += 1
        return _Container(func, self._made)

    def _start_container(self) -> _Container:
        """A cold start, outside the lock, in a slot already counted; the slot is passed on if it fails."""
        try:
            return self._new_container()
        except HandlerLoadError:
            self._discard()
            raise

    def _acquire(self, deadline: float, queue_deadline: float) -> _Container:
        with self._lock:
            # Queued requests go first: an idle container is only taken when nobody waits for one.
            if self._idle and not self._waiters:
                return self._idle.pop()
            if self._count < self.max_containers:
                self._count += 1
                waiter = None
            else:
                waiter = _Waiter()
                self._waiters.append(waiter)
        if waiter is not None:
            waiter.ready.wait(max(0.0, min(deadline, queue_deadline) - time.monotonic()))
            with self._lock:
                if waiter.container is None and not waiter.start_new:
                    self._waiters.remove(waiter)
                    if deadline <= queue_deadline:
                        raise IntegrationTimeout("no container became free in time")
                    raise ConcurrencyExhausted(f"all {self.max_containers} containers stayed busy for "
                                               f"{self.queue_wait_s:g} s after the request arrived")
            if waiter.container is not None:
                return waiter.container
        try:
            return self._start_container()
        except HandlerLoadError as exc:
            raise FunctionError(f"Runtime.ImportModuleError: {exc}") from None

    def _release(self, container: _Container) -> None:
        with self._lock:
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.container = container
                waiter.ready.set()
            else:
                self._idle.append(container)

    def _discard(self) -> None:
        """A container is gone (stuck past its timeout, or never started): its slot goes to the next waiter."""
        with self._lock:
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.start_new = True
                waiter.ready.set()
            else:
                self._count -= 1

    def invoke(self, event: dict[str, Any], integration_timeout_s: float, queued_since: float | None = None) -> Any:
        """The function's JSON result; FunctionError/FunctionTimeout (502), IntegrationTimeout (504) or
        ConcurrencyExhausted (500). `queued_since`: when the request arrived (time.monotonic), else now."""
        start = time.monotonic()
        deadline = start + integration_timeout_s
        container = self._acquire(deadline, (queued_since or start) + self.queue_wait_s)
        function_deadline = time.monotonic() + self.timeout_s
        job = _Job(event, LambdaContext(self.function_name, self.memory_mb, self.function_arn, function_deadline))
        container.submit(job)
        wait = min(function_deadline, deadline) - time.monotonic()
        if not job.done.wait(max(0.0, wait)):
            self._discard()  # stuck in the handler: never reused
            if function_deadline <= deadline:
                raise FunctionTimeout(f"Task timed out after {self.timeout_s:.2f} seconds")
            raise IntegrationTimeout(f"no answer within {integration_timeout_s:.0f} s")
        self._release(container)
        if job.error is not None:
            raise FunctionError(job.error, job.detail)
        return job.result
