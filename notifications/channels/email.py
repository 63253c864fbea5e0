"""E-mail over SMTP: a UTF-8 text/plain part and, when the message has one, a text/html alternative.

The `Message-ID` is derived from the message key, so a receiver (or a mail client) sees a retried message
as the same message; the key itself travels in `X-Jiesu-Key`.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from notifications.message import ChannelKind, DeliveryError, Message

KEY_HEADER = "X-Jiesu-Key"


def message_id(key: str, sender: str) -> str:
    """A stable `Message-ID` for one message key, in the sender's domain."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "jiesu.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class SmtpChannel:
    """Sends each message in one SMTP session: optional STARTTLS, optional login."""

    kind = ChannelKind.EMAIL

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        if "@" not in parseaddr(sender)[1]:
            raise ValueError(f"sender: not an e-mail address: {sender!r}")
        if timeout <= 0:
            raise ValueError(f"timeout: must be positive, got {timeout}")
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self._password = password
        self.starttls = starttls
        self.timeout = timeout

    def compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = " ".join(message.subject.splitlines())
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = message_id(message.key, self.sender)
        mail[KEY_HEADER] = message.key
        if message.urgent:
            mail["Importance"] = "high"
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        return mail

    def send(self, message: Message) -> None:
        if "@" not in parseaddr(message.address)[1]:
            raise DeliveryError(f"not an e-mail address: {message.address!r}", permanent=True)
        try:
            mail = self.compose(message)
        except ValueError as exc:
            raise DeliveryError(f"cannot compose the e-mail: {exc}", permanent=True) from exc
        try:
            self._transmit(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"recipient refused: {exc.recipients}", permanent=_permanent(*codes)) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.smtp_code} {exc.smtp_error!r}", permanent=_permanent(exc.smtp_code)
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{self.host}:{self.port}: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"{self.host}:{self.port}: {type(exc).__name__}: {exc}", permanent=False
            ) from exc

    def _transmit(self, mail: EmailMessage) -> None:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username is not None:
                smtp.login(self.username, self._password or "")
            smtp.send_message(mail)
        except BaseException:
            smtp.close()
            raise
        _quit(smtp)


def _permanent(*codes: int) -> bool:
    """5xx replies are permanent; 4xx (and anything else) may pass later."""
    return any(500 <= code < 600 for code in codes)


def _quit(smtp: smtplib.SMTP) -> None:
    """End the session; once the server has the message, a failing QUIT is no failure to deliver."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
