"""A small fault-injecting HTTP proxy on 127.0.0.1, between `OpenAIBackend` and a real vLLM server.

Requests pass through to the upstream server unchanged, except those whose body
contains a marker registered with `fail(marker, *faults)`: each such request
consumes the next fault in the list (then passes through once the list is
spent; `always=True` repeats the last fault forever).  Markers go in the
message text, so a fault hits exactly the requests meant, however a batch is
interleaved.

Faults:
    500       answer HTTP 500 with an error body (a server error: retried)
    400       answer HTTP 400 (a client error: not retried)
    hang      answer nothing until the client gives up (a timeout: retried)
    drop      close the connection without an answer (retried)
    empty     forward, then blank the completion's text (retried)
    truncate  forward, then send only half of the response body and close (retried)
    badjson   forward, then replace the text with JSON cut short (for json_schema requests: retried)
    garbage   answer HTTP 200 with a body that is not JSON (retried)

Every response carries `Connection: close`, which keeps the proxy simple.  The
proxy runs its own event loop in a daemon thread, so tests drive it from sync code.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from typing import Any

FAULTS = ("500", "400", "hang", "drop", "empty", "truncate", "badjson", "garbage")


class FaultProxy:
    """Forward HTTP/1.1 requests to `upstream_host:upstream_port`, injecting the registered faults."""

    def __init__(self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = 0
        self.applied: list[tuple[str, str]] = []  # (marker, fault) in the order they were injected
        self.forwarded = 0  # requests passed to the upstream server
        self.passed: list[tuple[bytes, bytes]] = []  # (request body, upstream answer) passed on unchanged
        self._rules: dict[str, tuple[deque[str], bool]] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="faultproxy", daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, self.host, 0), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            handlers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def fail(self, marker: str, *faults: str, always: bool = False) -> None:
        """Inject `faults`, one per request whose body contains `marker`, in order."""
        unknown = [f for f in faults if f not in FAULTS]
        if unknown or not faults:
            raise ValueError(f"faults must be a non-empty list of {FAULTS}; got {faults!r}")
        with self._lock:
            self._rules[marker] = (deque(faults), always)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def passed_answer(self, marker: str) -> dict[str, Any]:
        """The server's answer (parsed JSON) to the last request containing `marker` that passed through unchanged."""
        with self._lock:
            answers = [payload for body, payload in self.passed if marker.encode() in body]
        if not answers:
            raise AssertionError(f"no request with {marker!r} passed through the proxy unchanged")
        return json.loads(answers[-1])

    def _fault_for(self, body: bytes) -> str | None:
        text = body.decode(errors="replace")
        with self._lock:
            for marker, (faults, always) in self._rules.items():
                if marker in text and faults:
                    fault = faults[0] if always and len(faults) == 1 else faults.popleft()
                    self.applied.append((marker, fault))
                    return fault
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head, body = await _read_request(reader)
            if head is None:
                return
            fault = self._fault_for(body)
            if fault == "hang":
                await reader.read()  # returns when the client closes the connection
                return
            if fault == "drop":
                return
            if fault in ("500", "400"):
                error = {"error": {"message": f"injected {fault}", "type": "injected", "code": int(fault)}}
                writer.write(_response(int(fault), json.dumps(error).encode()))
                return
            if fault == "garbage":
                writer.write(_response(200, b"<html>this is not JSON</html>"))
                return
            status, payload = await self._forward(head, body)
            if status == 200 and fault in ("empty", "badjson"):
                payload = _rewrite_text(payload, "" if fault == "empty" else '{"name": "Al')
            if fault is None:
                with self._lock:
                    self.passed.append((body, payload))
            response = _response(status, payload)
            if fault == "truncate":
                response = response[: len(response) - len(payload) // 2]
            writer.write(response)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the proxy is stopping; ending quietly spares asyncio's "exception never retrieved" noise
        finally:
            await _close(writer)

    async def _forward(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        """Send the request upstream with `Connection: close` and return (status, body); 502 if it is down."""
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError as exc:
            return 502, json.dumps({"error": {"message": f"upstream down: {exc}", "code": 502}}).encode()
        self.forwarded += 1
        lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
        up_writer.write(b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body)
        try:
            raw = await up_reader.read()
        except ConnectionError:
            raw = b""
        finally:
            await _close(up_writer)
        if b"\r\n\r\n" not in raw:
            return 502, json.dumps({"error": {"message": "upstream closed without an answer", "code": 502}}).encode()
        response_head, payload = raw.split(b"\r\n\r\n", 1)
        return int(response_head.split(b" ", 2)[1]), payload


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes | None, bytes]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None, b""
    head = head[:-4]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return head, await reader.readexactly(length)


def _response(status: int, payload: bytes) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 500: "Internal Server Error", 502: "Bad Gateway"}.get(status, "Status")
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return (head + "Connection: close\r\n\r\n").encode() + payload


def _rewrite_text(payload: bytes, text: str) -> bytes:
    data: dict[str, Any] = json.loads(payload)
    data["choices"][0]["message"]["content"] = text
    return json.dumps(data).encode()


async def _close(writer: asyncio.StreamWriter) -> None:
    try:
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    except (ConnectionError, RuntimeError):
        pass
