"""SMS or WhatsApp through one provider-neutral HTTP webhook: a signed JSON POST per message.

The body is JSON: `message_key`, `kind`, `medium`, `language`, `to` (E.164), `text`. Each
request carries

- `X-Orderstream-Timestamp`: the send time, Unix seconds;
- `X-Orderstream-Signature`: `sha256=` and the hex HMAC-SHA256, keyed by the shared secret,
  of the timestamp, a `.`, and the body's bytes (a receiver recomputes it, compares in
  constant time and refuses an old timestamp, so a captured request cannot be replayed);
- `Idempotency-Key`: the message key, the same for every attempt at one message.

The answer becomes the sinks' `Outcome` (codecs/channel_outcomes.py): 2xx is `Delivered`
(with the provider's `id` from a JSON answer); 408, 425, 429 and 5xx, a timeout or a lost
connection are `Retryable`, honouring `Retry-After` (the sinks' `parse_retry_after`); any other
answer is `Rejected`. Reasons carry the HTTP status, never the number or the text, and
`Rejected.response` stays empty (a provider's answer may repeat the number).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import aiohttp
import msgspec

from orderstream.codecs.channel_outcomes import Delivered, Outcome, Rejected, Retryable
from orderstream.streams.delivery import parse_retry_after
from orderstream.streams.notify_plan import CustomerContact, Dispatch, e164

from .render import Rendered

TIMESTAMP_HEADER = "X-Orderstream-Timestamp"
SIGNATURE_HEADER = "X-Orderstream-Signature"
KEY_HEADER = "Idempotency-Key"
RETRYABLE_STATUSES = frozenset({408, 425, 429})
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    url: str
    secret: bytes
    medium: str = "sms"  # passed on to the provider: sms, whatsapp...
    timeout_s: float = 10.0


class WebhookMessage(msgspec.Struct, frozen=True):
    message_key: str
    kind: str
    medium: str
    language: str
    to: str
    text: str


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, timestamp + "." + body)."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookSender:
    """Posts messages to the provider's webhook on a session the composition root owns."""

    def __init__(self, settings: WebhookSettings, session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.session = session

    async def send(
        self, dispatch: Dispatch, rendered: Rendered, contact: CustomerContact, now: datetime
    ) -> Outcome:
        body = message_body(dispatch, rendered, contact, self.settings.medium)
        if body is None:
            return Rejected("webhook invalid_number")
        return await self.post(body, dispatch.key, now)

    async def post(self, body: bytes, key: str, now: datetime) -> Outcome:
        """POST the message `body` as it is, signed at `now`, with `key` as its
        Idempotency-Key (the same body and key for every attempt at one message)."""
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self.settings.secret, timestamp, body),
            KEY_HEADER: key,
        }
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
        try:
            async with self.session.post(
                self.settings.url,
                data=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                answer = await response.content.read(MAX_ANSWER_BYTES)
                return _outcome(response.status, response.headers, answer, now)
        except (TimeoutError, aiohttp.ClientError) as error:
            return Retryable(f"webhook {type(error).__name__}")


def message_body(
    dispatch: Dispatch, rendered: Rendered, contact: CustomerContact, medium: str
) -> bytes | None:
    """The JSON body of `dispatch`'s message, or None when the contact has no number that
    reads as E.164."""
    to = e164(contact.phone, contact.country)
    if not to:
        return None
    return msgspec.json.encode(
        WebhookMessage(
            message_key=dispatch.key,
            kind=dispatch.notice.kind.value,
            medium=medium,
            language=rendered.language,
            to=to,
            text=rendered.sms,
        )
    )


def decode_body(body: bytes) -> WebhookMessage:
    """A logged body read back (`msgspec.ValidationError` or `DecodeError` when it is none)."""
    return msgspec.json.decode(body, type=WebhookMessage)


def _outcome(status: int, headers: Mapping[str, str], answer: bytes, now: datetime) -> Outcome:
    if 200 <= status < 300:
        return Delivered(reference=_reference(answer))
    if status in RETRYABLE_STATUSES or status >= 500:
        wait = parse_retry_after(headers.get("Retry-After"), now)
        return Retryable(f"webhook http {status}", wait)
    return Rejected(f"webhook http {status}")


def _reference(answer: bytes) -> str:
    try:
        decoded = msgspec.json.decode(answer)
    except msgspec.DecodeError:
        return ""
    found = decoded.get("id") if isinstance(decoded, dict) else None
    return str(found) if isinstance(found, str | int) else ""
