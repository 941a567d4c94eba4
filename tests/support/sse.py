"""A test client of server-sent events that follows the EventSource processing model (WHATWG HTML, 9.2).

Each `poll` is one connection: the finite batch the API answers is parsed line by line exactly as a browser
would (field/value split at the first colon, one leading space dropped, `id` setting the last event id even
without data, blank lines dispatching), and the next poll sends `Last-Event-ID` as a reconnecting EventSource
does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

FEED_PATH = "/api/cp/metrics/sessions/events"


@dataclass
class Event:
    """One dispatched event."""

    id: str
    type: str
    data: str

    def json(self) -> Any:
        """The data as JSON."""
        return json.loads(self.data)


@dataclass
class EventSourceClient:
    """Polls the session feed as text/event-stream, keeping the last event id and the reconnection time."""

    http: Any
    headers: dict[str, str]
    last_event_id: str = ""  # the source's "last event ID string", sent on reconnect
    retry_ms: int | None = None
    events: list[Event] = field(default_factory=list)

    def poll(self) -> list[Event]:
        """One connection: request a batch, read all of it, return the events it dispatched."""
        response = self.connect()
        assert response.headers["content-type"].startswith("text/event-stream")
        return self.receive(response.text)

    def connect(self) -> Any:
        """Request a batch as a (re)connecting EventSource: Accept, and Last-Event-ID once there is one."""
        headers = {**self.headers, "Accept": "text/event-stream"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        response = self.http.get(FEED_PATH, headers=headers)
        assert response.status_code == 200, response.text
        return response

    def receive(self, text: str) -> list[Event]:
        """Take a (possibly cut-off) stream body as this connection's whole input."""
        dispatched = self.feed(text)
        self.events.extend(dispatched)
        return dispatched

    def cut_off(self, at: int) -> list[Event]:
        """One connection that drops after `at` characters of the batch."""
        return self.receive(self.connect().text[:at])

    def feed(self, text: str) -> list[Event]:
        """Parse a stream body; returns the dispatched events and updates the last event id and retry.

        The id a reconnect sends is taken at dispatch (a blank line), so a block cut off before its blank line
        (the connection dropped) neither dispatches nor moves it; the pending block is discarded at the end.
        """
        # Every connection's stream starts with empty buffers.
        dispatched, self.last_event_id, retry_ms = parse_stream(text, self.last_event_id)
        if retry_ms is not None:
            self.retry_ms = retry_ms
        return dispatched


def parse_stream(text: str, last_event_id: str, id_buffer: str = "") -> tuple[list[Event], str, int | None]:
    """One connection's body as EventSource parses it: the events dispatched, the last event id, the last retry."""
    dispatched: list[Event] = []
    data: list[str] = []
    event_type = ""
    retry_ms: int | None = None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # A final line without its line break is incomplete: the stream ended inside it.
    for line in lines[:-1]:
        if line == "":
            last_event_id = id_buffer  # set on every dispatch, even without data
            if data:
                dispatched.append(Event(last_event_id, event_type or "message", "\n".join(data)))
            data, event_type = [], ""
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
        elif name == "id" and "\0" not in value:
            id_buffer = value
        elif name == "retry" and value.isdigit():
            retry_ms = int(value)
    return dispatched, last_event_id, retry_ms
