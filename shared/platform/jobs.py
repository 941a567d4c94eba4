"""The job adapter: what the HTTP adapter is for operations, for queue- and timer-triggered functions.

`queue_job(bp, queue, message=Model)` registers `handler(payload)` as the queue-triggered function
named after it. Per message it parses the JSON body (with the same hostile-input rules as HTTP
bodies) into the model, takes the correlation id from the message, runs the handler in a job span,
and settles the outcome:

- done: the handler returned (its return value, if any, is logged as the outcome);
- skipped: the handler raised NotFound (what the message was about no longer exists);
- poisoned: the message itself is bad (not JSON, not the model, or the handler refused it with any
  other 4xx) — it is copied to `<queue>-poison` at once, where operators see it, instead of being
  retried five times for nothing;
- retried: anything else (a provider or the store is down, a 5xx, a bug) is raised, so the host
  retries it with backoff and, after maxDequeueCount attempts, moves it to `<queue>-poison` itself;
- given up: a handler that schedules its own retries (a growing delay, a provider's Retry-After)
  raises `GiveUp` once they are spent, and the message goes to `<queue>-poison` at once.

`timer_job(bp, schedule)` registers a timer function the same way (span, correlation id, outcome log).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import azure.functions as func

from shared.platform import telemetry
from shared.platform.errors import NotFound, ServiceError
from shared.platform.references import ModelRef, resolve_model

logger = logging.getLogger("tellgence.jobs")

JOB_NAMES: dict[str, str] = {}


class BadMessage(Exception):
    """A queued message that can never succeed: it goes to the poison queue without retries."""


class GiveUp(BadMessage):
    """The handler ran its own retry schedule to the end: the message goes to the poison queue now."""


def queue_job(bp: func.Blueprint, queue_name: str, *, message: ModelRef | None = None) -> Callable:
    """Register `handler(payload)` as the function triggered by `queue_name` (payload: the model, or a dict).

    The decorated name becomes the registered function, which takes the queue message.
    """

    def register(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def run(msg: func.QueueMessage) -> None:
            _run_queue_message(handler, queue_name, message, msg)

        _name_like(run, handler)
        bp.queue_trigger(arg_name="msg", queue_name=queue_name, connection="AzureWebJobsStorage")(run)
        JOB_NAMES[handler.__name__] = f"queue:{queue_name}"
        return run

    return register


def timer_job(bp: func.Blueprint, schedule: str, *, run_on_startup: bool = False, use_monitor: bool = True) -> Callable:
    """Register `handler()` as a timer function on a six-field NCRONTAB schedule (UTC)."""

    def register(handler: Callable[[], Any]) -> Callable[[], Any]:
        def run(timer: func.TimerRequest) -> None:
            correlation_id = uuid.uuid4().hex
            attributes = {"tellgence.past_due": bool(getattr(timer, "past_due", False))}
            with telemetry.job_span(
                handler.__name__, trigger="timer", correlation_id=correlation_id, attributes=attributes
            ):
                outcome = handler()
            logger.info("job %s done%s correlation_id=%s", handler.__name__, _summary(outcome), correlation_id)

        _name_like(run, handler)
        bp.timer_trigger(arg_name="timer", schedule=schedule, run_on_startup=run_on_startup, use_monitor=use_monitor)(
            run
        )
        JOB_NAMES[handler.__name__] = f"timer:{schedule}"
        return run

    return register


def _name_like(run: Callable, handler: Callable) -> None:
    # No functools.wraps: the worker binds trigger arguments by the wrapper's own signature.
    run.__name__ = handler.__name__
    run.__qualname__ = handler.__qualname__
    run.__doc__ = handler.__doc__
    run.__module__ = handler.__module__


def _run_queue_message(handler: Callable, queue_name: str, model: ModelRef | None, msg: func.QueueMessage) -> None:
    raw = msg.get_body()
    correlation_id = _correlation_id(raw, msg)
    attributes = {"messaging.message.id": msg.id, "tellgence.dequeue_count": msg.dequeue_count}
    with telemetry.job_span(handler.__name__, trigger="queue", correlation_id=correlation_id, attributes=attributes):
        try:
            payload = _parse(raw, model)
            outcome = handler(payload)
        except BadMessage as exc:
            _poison(queue_name, raw, handler.__name__, str(exc), correlation_id)
            return
        except NotFound as exc:
            logger.info("job %s skipped: %s correlation_id=%s", handler.__name__, exc.message, correlation_id)
            return
        except ServiceError as exc:
            if 400 <= exc.status < 500:
                _poison(queue_name, raw, handler.__name__, f"{exc.code}: {exc.message}", correlation_id)
                return
            logger.warning("job %s will be retried: %s correlation_id=%s", handler.__name__, exc.code, correlation_id)
            raise
    logger.info("job %s done%s correlation_id=%s", handler.__name__, _summary(outcome), correlation_id)


def _parse(raw: bytes, model: ModelRef | None) -> Any:
    from shared.platform.errors import BadRequest
    from shared.platform.jsonbody import parse_json

    try:
        value = parse_json(raw)
    except BadRequest as exc:
        raise BadMessage("the message is not acceptable JSON") from exc
    if model is None:
        if not isinstance(value, dict):
            raise BadMessage("the message is not a JSON object")
        return value
    from pydantic import ValidationError

    try:
        return resolve_model(model).model_validate(value)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, error["loc"])) for error in exc.errors(include_input=False)[:5])
        raise BadMessage(f"the message does not fit {resolve_model(model).__name__} ({fields})") from exc


def _correlation_id(raw: bytes, msg: func.QueueMessage) -> str:
    try:
        value = json.loads(raw)
        candidate = value.get("correlationId") or value.get("correlation_id") if isinstance(value, dict) else None
    except (ValueError, UnicodeDecodeError):
        candidate = None
    if isinstance(candidate, str) and 8 <= len(candidate) <= 64 and candidate.isascii():
        return candidate
    return msg.id or uuid.uuid4().hex


def _poison(queue_name: str, raw: bytes, job: str, reason: str, correlation_id: str) -> None:
    from shared.platform.store import queues

    logger.error("job %s poisoned a message: %s correlation_id=%s", job, reason, correlation_id)
    queues.get_queue(f"{queue_name}-poison").send_message(raw.decode("utf-8", errors="replace"))


def _summary(outcome: Any) -> str:
    return "" if outcome is None else f" ({str(outcome)[:200]})"
