"""SMTP sending, with failures sorted into "try again later" and "this will never work".

The outbox retries a `TemporaryFailure` with backoff and gives up on a `PermanentFailure`, so the split
follows SMTP itself: 4xx replies, dropped connections, timeouts and refused connections are temporary;
5xx replies are permanent. A rejected sign-in or a server without STARTTLS is an operator's mistake
that a fix of the configuration cures, so those count as temporary too (the message is not lost).

Error texts kept for staff never carry an address: the server's reply often quotes the recipient.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from zoombot.config import MailSettings
from zoombot.core.privacy import mask_emails, one_line


class MailFailure(Exception):
    """Sending failed; `str()` is safe to store and show (no addresses, no secrets)."""


class TemporaryFailure(MailFailure):
    """Worth trying again later."""


class PermanentFailure(MailFailure):
    """Will fail the same way every time (e.g. 550 no such mailbox)."""


def redact(text: str) -> str:
    """The text with every e-mail address replaced, cut to one short line."""
    return mask_emails(one_line(text, 10_000), "<address>")[:300]


def _reply_text(reply: bytes | str) -> str:
    return redact(reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply)


def _by_code(code: int, reply: bytes | str, what: str) -> MailFailure:
    text = f"{what}: SMTP {code} {_reply_text(reply)}".strip()
    return PermanentFailure(text) if 500 <= code < 600 else TemporaryFailure(text)


class Mailer:
    """One SMTP connection, opened on the first message and reused for the rest of a sending run.

    After any failure the connection is dropped, so the next message starts from a clean one.
    """

    def __init__(self, settings: MailSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_seconds)
        try:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Hand one message to the server; raise TemporaryFailure or PermanentFailure."""
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            refused = self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            self._drop()
            codes = [code for code, _ in exc.recipients.values()]
            reply = next(iter(exc.recipients.values()), (0, b""))[1]
            raise _by_code(min(codes) if codes else 550, reply, "recipient refused") from None
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            raise TemporaryFailure(
                f"SMTP sign-in refused ({exc.smtp_code}): check [mail] username and password"
            ) from None
        except smtplib.SMTPNotSupportedError:
            self._drop()
            raise TemporaryFailure("the SMTP server does not offer what [mail] asks for (STARTTLS or AUTH)") from None
        except smtplib.SMTPSenderRefused as exc:
            self._drop()
            raise _by_code(exc.smtp_code, exc.smtp_error, "sender refused") from None
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise _by_code(exc.smtp_code, exc.smtp_error, "server refused") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            # Disconnected, connection refused, timeout, TLS handshake: all worth a later try.
            self._drop()
            raise TemporaryFailure(f"SMTP connection failed: {type(exc).__name__} {redact(str(exc))}".strip()) from None
        if refused:
            codes = [code for code, _ in refused.values()]
            raise _by_code(min(codes), next(iter(refused.values()))[1], "recipient refused")

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None
