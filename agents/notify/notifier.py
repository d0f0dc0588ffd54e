"""One status event to its customer messages, and each message to its sender.

Gather (the event, the order's contact from the store, the time), decide (the pure rules),
render, send. `build_notifier` is the composition root of the notification sinks
(agents/sinks/notify_sink.py): they take its rules, templates and senders, log each message
whole and send the logged bytes. `messages` and `send` do the same in one step, for one-off
use: a message inside quiet hours, those it was decided in or those it is sent in, answers
`Retryable("quiet_hours", wait)` and is not sent. A contact the store does not hold yet
(`contact_for` gives None) is the caller's to wait for; nothing here reads a clock, a topic
or the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr
from typing import TYPE_CHECKING

from orderstream.codecs.channel_outcomes import Outcome, Rejected, Retryable
from orderstream.streams.notifications import Medium, NotificationRules, notice_for
from orderstream.streams.notify_plan import CustomerContact, Dispatch, dispatches, quiet_until
from orderstream.streams.order_messages import StatusChanged

from .render import Rendered, Templates, load_templates
from .smtp import SmtpSecurity, SmtpSender, SmtpSettings, email_for
from .webhook import WebhookSender, WebhookSettings

if TYPE_CHECKING:
    import aiohttp

    from orderstream.agents.settings import Settings


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message, rendered, for one medium."""

    dispatch: Dispatch
    rendered: Rendered

    @property
    def key(self) -> str:
        return self.dispatch.key


class Notifier:
    """The rules, the templates and a sender per medium, built once by `build_notifier`."""

    def __init__(
        self,
        rules: NotificationRules,
        templates: Templates,
        *,
        sender: str,
        email: SmtpSender | None = None,
        sms: WebhookSender | None = None,
    ) -> None:
        self.rules = rules
        self.templates = templates
        self.sender = sender
        self.email = email
        self.sms = sms

    def messages(
        self, event: StatusChanged, contact: CustomerContact, now: datetime
    ) -> tuple[Outgoing, ...]:
        """The messages `event` gives its customer (at most one per medium)."""
        notice = notice_for(event, self.rules)
        if notice is None:
            return ()
        return tuple(
            Outgoing(d, self.templates.render(d, contact))
            for d in dispatches(notice, contact, self.rules, now)
        )

    async def send(self, outgoing: Outgoing, contact: CustomerContact, now: datetime) -> Outcome:
        """Send `outgoing` now, unless quiet hours hold it back: those it was decided in, or
        those `now` falls in (a message decided before the window and sent inside it)."""
        dispatch = outgoing.dispatch
        held = quiet_until(now, self.rules.quiet_hours, dispatch.medium) or dispatch.not_before
        if held > now:
            return Retryable("quiet_hours", (held - now).total_seconds())
        if dispatch.medium is Medium.EMAIL and self.email is not None:
            message = email_for(dispatch, outgoing.rendered, contact, sender=self.sender, now=now)
            return await self.email.send(message)
        if dispatch.medium is Medium.SMS and self.sms is not None:
            return await self.sms.send(dispatch, outgoing.rendered, contact, now)
        return Rejected(f"no sender for {dispatch.medium}")


def build_notifier(settings: Settings, session: aiohttp.ClientSession | None) -> Notifier:
    """The notifier of `settings` (the webhook sender only with a `session` and a URL)."""
    sender = formataddr((settings.notify_shop_name, settings.notify_smtp_from))
    password = settings.notify_smtp_password
    email = SmtpSender(
        SmtpSettings(
            host=settings.notify_smtp_host,
            port=settings.notify_smtp_port,
            security=SmtpSecurity(settings.notify_smtp_security),
            username=settings.notify_smtp_username or "",
            password=password.get_secret_value() if password else "",
            timeout_s=settings.notify_smtp_timeout_s,
        )
    )
    sms = None
    url, secret = settings.notify_webhook_url, settings.webhook_secret()
    if session is not None and url:
        sms = WebhookSender(
            WebhookSettings(
                url, secret, settings.notify_webhook_medium, settings.notify_webhook_timeout_s
            ),
            session,
        )
    rules = settings.notification_rules(sms_sender=sms is not None)
    return Notifier(
        rules, load_templates(settings.notify_shop_name), sender=sender, email=email, sms=sms
    )
