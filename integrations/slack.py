"""Slack: one message to the incoming webhook the partner manager's channel set up, through Slack's
own SDK (`slack_sdk.webhook.WebhookClient`: stdlib HTTP, no other dependency). It never retries by
itself: a failed message is recorded and the sweep sends it again (handlers/sweep.py).

What Slack answers (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks,
https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks/ "Handling errors",
https://api.slack.com/docs/rate-limits):
200 `ok`; 400 `invalid_payload`; 403 `action_prohibited` / `invalid_token`; 404 `channel_not_found` /
`no_service` (the webhook was removed or disabled); 410 `channel_is_archived`; 429 with `Retry-After`
(about one message a second); 500 `rollup_error`. 4xx but 429 need a person; the rest is retried.
"""

from __future__ import annotations

import logging
import socket
from urllib.error import URLError

from slack_sdk.webhook import WebhookClient

from dealreg.errors import DeliveryFailed

log = logging.getLogger("integrations.slack")

_FIX = {
    400: "Slack could not read the message (a dealreg bug: report it)",
    403: "Slack refused the webhook (its workspace restricts it, or the URL's token is no longer valid): make a new "
         "incoming webhook and set DEALREG_SLACK_WEBHOOK_URL",
    404: "the Slack webhook or its channel no longer exists: make a new incoming webhook and set "
         "DEALREG_SLACK_WEBHOOK_URL",
    410: "the Slack channel was archived: unarchive it, or make a webhook for another channel and set "
         "DEALREG_SLACK_WEBHOOK_URL",
}


class SlackWebhook:
    """An incoming webhook URL. `timeout`: seconds for the whole call (a hanging Slack costs a
    background thread that long, never a request)."""

    channel = "slack"

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        # retry_handlers=[]: the SDK's default retries a dropped connection by itself; the sweep does that here.
        self._client = WebhookClient(url, timeout=max(1, round(timeout)), retry_handlers=[], logger=log)

    def send(self, text: str) -> None:
        """Post `text`; DeliveryFailed saying what Slack answered (and the fix when a person must act)."""
        try:
            response = self._client.send(text=text, unfurl_links=False, unfurl_media=False)
        except (URLError, OSError, socket.timeout) as exc:
            raise DeliveryFailed(f"Slack did not answer: {getattr(exc, 'reason', exc)}") from None
        status, body = response.status_code, (response.body or "").strip()
        if status == 200:
            return
        if status == 429:
            wait = response.headers.get("Retry-After") or response.headers.get("retry-after") or "?"
            raise DeliveryFailed(f"Slack answered 429 {body or 'rate_limited'} (retry after {wait} s)")
        if status in _FIX:
            raise DeliveryFailed(f"Slack answered {status} {body}: {_FIX[status]}", permanent=True)
        raise DeliveryFailed(f"Slack answered {status} {body}")
