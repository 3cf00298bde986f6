"""A request id on every log line of a request, and of the Celery tasks that request queues.

The web side takes the id from the proxy's X-Request-ID header when it looks like one (so the
proxy's access log and ours can be joined), otherwise makes a new one, and answers with it.
Publishing a task copies the current id into the task message's headers; the worker puts it back
into the context while the task runs. Ids are random, never derived from anything secret.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# what a proxy's id may look like: anything else (too long, odd characters) is replaced, so a
# client cannot write arbitrary text into the logs through it
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# the Celery message header that carries the id from the request to the task
TASK_HEADER = "request_id"
NO_REQUEST = "-"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default=NO_REQUEST)


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if VALID_REQUEST_ID.match(offered) else new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Gives every record a request_id attribute (the formatters print it).

    django.request logs an error response after the middleware has returned, so a record that
    carries its request takes the id from there; others take the current context's.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or _current.get()
        return True


# Celery: connected in portal/celery.py ---------------------------------------------------------


def task_publish_add_request_id(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    """before_task_publish: the queuing request's id travels in the message headers."""
    request_id = _current.get()
    if headers is not None and request_id != NO_REQUEST:
        headers.setdefault(TASK_HEADER, request_id)


_task_tokens: dict[str, contextvars.Token[str]] = {}


def task_prerun_set_request_id(task_id: str = "", task: Any = None, **_kwargs: Any) -> None:
    """task_prerun: the task's log lines carry the id of the request that queued it."""
    request_id = getattr(task.request, TASK_HEADER, None) if task is not None else None
    if request_id and VALID_REQUEST_ID.match(str(request_id)):
        _task_tokens[task_id] = _current.set(str(request_id))


def task_postrun_clear_request_id(task_id: str = "", **_kwargs: Any) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _current.reset(token)
