"""A local Slack incoming webhook: what `integrations/slack.py` posts to in the tests, answering as
Slack documents (nothing leaves the machine).

- 200 `ok` for a message it can read (`text` or `blocks`);
- 400 `invalid_payload` for a body that is not a JSON object with a text
  (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks);
- on demand (`fail`): 403/404 `no_service` (a webhook removed or disabled), 404 `channel_not_found`,
  410 `channel_is_archived`, 429 `rate_limited` with `Retry-After` (https://api.slack.com/docs/rate-limits:
  "a Retry-After header containing the number of seconds until you can retry"), 500 `rollup_error`;
- `hang()`: answers nothing until `release()` (a Slack that does not answer), without any sleep.

`posts` holds every message Slack would have shown (200 only); `calls` every call with its answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWERS = {400: "invalid_payload", 403: "no_service", 404: "no_service", 410: "channel_is_archived",
           429: "rate_limited", 500: "rollup_error"}


class FakeSlackWebhook:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.calls: list[tuple[int, str]] = []
        self._faults: list[tuple[int, str, dict[str, str]]] = []
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake._open.wait(timeout=30)  # a hanging Slack: held until release(), bounded for a stuck test
                status, text, headers = fake._answer(body)
                data = text.encode()
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": "text/html", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (its timeout) before Slack answered

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/services/T000/B000/XXXX"

    @property
    def texts(self) -> list[str]:
        return [str(p.get("text", "")) for p in self.posts]

    def fail(self, status: int, times: int = 1, *, retry_after: int = 30) -> None:
        """The next `times` calls answer `status` with Slack's body for it."""
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        with self._lock:
            self._faults += [(status, ANSWERS.get(status, "error"), headers)] * times

    def hang(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def _answer(self, body: bytes) -> tuple[int, str, dict[str, str]]:
        with self._lock:
            if self._faults:
                status, text, headers = self._faults.pop(0)
                self.calls.append((status, text))
                return status, text, headers
            try:
                message = json.loads(body)
            except ValueError:
                message = None
            if not isinstance(message, dict) or not (message.get("text") or message.get("blocks")):
                self.calls.append((400, "invalid_payload"))
                return 400, "invalid_payload", {}
            self.posts.append(message)
            self.calls.append((200, "ok"))
            return 200, "ok", {}

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()


def fake_slack_webhook() -> Iterator[FakeSlackWebhook]:
    fake = FakeSlackWebhook()
    try:
        yield fake
    finally:
        fake.close()
