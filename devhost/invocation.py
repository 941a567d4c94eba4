"""Indexing user functions as the Python worker does, and calling them (sync or async) with their trigger value."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions import _abc as func_abc

SUPPORTED_TRIGGERS = ("httpTrigger", "queueTrigger", "timerTrigger")
# The HTTP output binding is the function's return value; nothing else is supplied by the dev host.
_RETURN_BINDING = "$return"
_CONTEXT_PARAMETER = "context"


class FunctionIndexError(ValueError):
    """A function the worker would refuse to load, or one the dev host cannot run."""


class _TraceContext(func_abc.TraceContext):
    """An empty W3C trace context: no distributed tracing locally."""

    @property
    def trace_parent(self) -> str:
        return ""

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class InvocationContext(func.Context):
    """The `context` argument the worker passes to functions that declare one."""

    def __init__(self, function_name: str, function_directory: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory
        self._thread_local_storage = threading.local()
        self._thread_local_storage.invocation_id = self._invocation_id

    @property
    def invocation_id(self) -> str:
        """A fresh id per invocation."""
        return self._invocation_id

    @property
    def thread_local_storage(self) -> threading.local:
        """Thread-local storage carrying the invocation id."""
        return self._thread_local_storage

    @property
    def function_name(self) -> str:
        """The function's name."""
        return self._function_name

    @property
    def function_directory(self) -> str:
        """The project root (the v2 model has no per-function directory)."""
        return self._function_directory

    @property
    def trace_context(self) -> _TraceContext:
        """An empty W3C trace context (no distributed tracing locally)."""
        return _TraceContext()

    @property
    def retry_context(self) -> None:
        """No retry policies locally."""
        return None


@dataclass(frozen=True, slots=True)
class IndexedFunction:
    """A user function ready to invoke: its trigger and the parameter names the worker would bind."""

    name: str
    function: Any = field(repr=False)
    trigger: Any = field(repr=False)
    trigger_type: str
    binding_name: str
    user_function: Callable[..., Any] = field(repr=False)
    wants_context: bool
    is_async: bool
    function_directory: str

    def arguments(self, trigger_value: Any) -> dict[str, Any]:
        """The keyword arguments of one invocation."""
        arguments = {self.binding_name: trigger_value}
        if self.wants_context:
            arguments[_CONTEXT_PARAMETER] = InvocationContext(self.name, self.function_directory)
        return arguments

    def invoke(self, trigger_value: Any) -> Any:
        """Call the function in this thread; an async one runs to completion on its own event loop."""
        return run_to_completion(self.user_function(**self.arguments(trigger_value)))

    async def invoke_async(self, trigger_value: Any) -> Any:
        """Call the function from an event loop: async ones awaited, sync ones in a worker thread."""
        if self.is_async:
            return await self.user_function(**self.arguments(trigger_value))
        return await asyncio.to_thread(self.invoke, trigger_value)


def run_to_completion(result: Any) -> Any:
    """Resolve an awaitable on a fresh event loop (in a helper thread when one already runs here)."""
    if not inspect.isawaitable(result):
        return result

    async def wait_for() -> Any:
        return await result

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait_for())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, wait_for()).result()


def index_functions(functions: Iterable[Any], function_directory: Path | str) -> dict[str, IndexedFunction]:
    """Index `app.get_functions()` like the worker: check each signature against its bindings."""
    indexed: dict[str, IndexedFunction] = {}
    for function in functions:
        entry = index_function(function, str(function_directory))
        if entry.name in indexed:
            raise FunctionIndexError(f"function name {entry.name!r} is used twice; names must be unique app-wide")
        indexed[entry.name] = entry
    return indexed


def index_function(function: Any, function_directory: str) -> IndexedFunction:
    """One function's invocation details; FunctionIndexError when the worker would refuse it."""
    name = function.get_function_name()
    trigger = function.get_trigger()
    trigger_type = getattr(trigger, "type", None)
    if trigger is None or trigger_type not in SUPPORTED_TRIGGERS:
        raise FunctionIndexError(
            f"function {name!r}: trigger {trigger_type!r} is not supported by the dev host "
            f"(supported: {', '.join(SUPPORTED_TRIGGERS)})"
        )
    bindings = function.get_bindings()
    unsupported = [
        f"{binding.type} {binding.name!r}"
        for binding in bindings
        if binding is not trigger and not (binding.type == "http" and binding.name == _RETURN_BINDING)
    ]
    if unsupported:
        raise FunctionIndexError(
            f"function {name!r}: bindings {', '.join(unsupported)} are not supported by the dev host; "
            "use the storage clients in shared/ instead"
        )
    user_function = function.get_user_function()
    parameters = set(inspect.signature(user_function).parameters)
    binding_names = {binding.name for binding in bindings if binding.name != _RETURN_BINDING}
    wants_context = _CONTEXT_PARAMETER in parameters and _CONTEXT_PARAMETER not in binding_names
    # The same two checks (and wording) as the Python worker's FunctionLoadError.
    in_python_only = parameters - binding_names - ({_CONTEXT_PARAMETER} if wants_context else set())
    if in_python_only:
        raise FunctionIndexError(
            f"cannot load the {name} function: the following parameters are declared in Python "
            f"but not in the function definition (function decorators): {sorted(in_python_only)}"
        )
    in_bindings_only = binding_names - parameters
    if in_bindings_only:
        raise FunctionIndexError(
            f"cannot load the {name} function: the following parameters are declared in the function "
            f"definition but not in Python: {sorted(in_bindings_only)}"
        )
    return IndexedFunction(
        name=name,
        function=function,
        trigger=trigger,
        trigger_type=trigger_type,
        binding_name=trigger.name,
        user_function=user_function,
        wants_context=wants_context,
        is_async=inspect.iscoroutinefunction(user_function),
        function_directory=function_directory,
    )
