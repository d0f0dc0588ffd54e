"""E-mail through SMTP: one multipart/alternative message (text, then HTML) per dispatch.

The Message-ID is made from the dispatch's key (`streams.notify_plan.message_id`), so a
message sent again after a crash carries the id of the first and mail clients show one.
The answer becomes the sinks' `Outcome` (codecs/channel_outcomes.py): a 4xx, a timeout or a
lost connection is `Retryable`, a 5xx for the message or its recipient is `Rejected`. A
server's refusal of our own login or sender is `Retryable` as well: the configuration is at
fault, not the message. Reasons carry the SMTP codes only (a server's text often repeats
the address), and `Rejected.response` stays empty for the same reason. `message_bytes` is
the message as it goes on the wire; `send_bytes` sends such bytes exactly as they are (the
notification sink logs them, so a resend is the same message byte for byte).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formataddr, getaddresses, parseaddr
from enum import StrEnum

import aiosmtplib

from orderstream.codecs.channel_outcomes import Delivered, Outcome, Rejected, Retryable
from orderstream.streams.notify_plan import CustomerContact, Dispatch, message_id

from .render import Rendered

KIND_HEADER = "X-Orderstream-Kind"
"""Names the message's template (`order_shipped`...), for counting; no personal data."""


class SmtpSecurity(StrEnum):
    NONE = "none"  # plain SMTP (a relay on the same host or network)
    STARTTLS = "starttls"  # upgrade after connecting (submission, port 587)
    TLS = "tls"  # TLS from the first byte (port 465)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    security: SmtpSecurity = SmtpSecurity.NONE
    username: str = ""
    password: str = ""
    timeout_s: float = 10.0


def sender_domain(sender: str) -> str:
    """The domain of the From address: the right side of every Message-ID."""
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LINE_BREAKS = re.compile(r"[\r\n]+")


def email_for(
    dispatch: Dispatch, rendered: Rendered, contact: CustomerContact, *, sender: str, now: datetime
) -> EmailMessage:
    """The message for `dispatch`, dated `now` (header values cannot break lines)."""
    message = EmailMessage()
    message["Subject"] = _LINE_BREAKS.sub(" ", rendered.subject)
    message["From"] = sender
    message["To"] = formataddr((_LINE_BREAKS.sub(" ", contact.name), contact.email))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(dispatch.key, sender_domain(sender))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message[KIND_HEADER] = dispatch.notice.kind.value
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    message["Content-Language"] = rendered.language  # after the content: setting it clears
    return message


def is_address(email: str) -> bool:
    """Plausibly one mailbox: something, `@`, a dotted domain, no blanks or line breaks."""
    return bool(_ADDRESS.fullmatch(email))


def message_bytes(message: EmailMessage) -> bytes:
    """`message` as it goes to the server (CRLF line ends, long headers folded)."""
    return message.as_bytes(policy=policy.SMTP)


class SmtpSender:
    """Sends one message per call on a connection of its own."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> Outcome:
        """Hand `message` to the server (`Delivered`'s reference: its Message-ID)."""
        return await self.send_bytes(message_bytes(message))

    async def send_bytes(self, data: bytes) -> Outcome:
        """Hand the message `data` to the server unchanged: the envelope's sender and
        recipient are its From and To (`Delivered`'s reference: its Message-ID)."""
        headers = BytesHeaderParser(policy=policy.default).parsebytes(data)
        sender = parseaddr(str(headers.get("From", "")))[1]
        recipients = [address for _, address in getaddresses([str(headers.get("To", ""))])]
        if len(recipients) != 1 or not is_address(recipients[0]):
            return Rejected("smtp invalid_address")
        s = self.settings
        try:
            await aiosmtplib.send(
                data,
                sender=sender,
                recipients=recipients,
                hostname=s.host,
                port=s.port,
                use_tls=s.security is SmtpSecurity.TLS,
                start_tls=s.security is SmtpSecurity.STARTTLS,
                username=s.username or None,
                password=s.password or None,
                timeout=s.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = sorted({r.code for r in refused.recipients})
            return _by_code(codes[0] if codes else 550, "smtp recipient_refused")
        except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused) as error:
            return Retryable(f"smtp {type(error).__name__} {error.code}")
        except aiosmtplib.SMTPResponseException as error:
            return _by_code(error.code, "smtp refused")
        except (aiosmtplib.SMTPException, OSError) as error:
            return Retryable(f"smtp {type(error).__name__}")
        return Delivered(reference=str(headers.get("Message-ID", "")))


def _by_code(code: int, reason: str) -> Outcome:
    if 400 <= code < 500:
        return Retryable(f"{reason} {code}")
    return Rejected(f"{reason} {code}")
