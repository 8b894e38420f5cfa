"""SMTP failures sorted the way the outbox needs them: 4xx, refused connections and unsupported STARTTLS
are temporary; 5xx are permanent; no address ever appears in the error kept for staff."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tests.helpers.mail import smtp  # noqa: F401
from tests.helpers.servers import free_port
from zoombot.config import MailSettings
from zoombot.mail.sending import Mailer, PermanentFailure, TemporaryFailure


def message(to: str = "alice@example.org") -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "cop@zoombot.example.org", to, "Hello"
    m.set_content("Hello")
    return m


def settings(port: int, **extra) -> MailSettings:
    return MailSettings(
        smtp_host="127.0.0.1", smtp_port=port, from_address="cop@zoombot.example.org", timeout_seconds=5, **extra
    )


def test_delivers_several_messages_over_one_connection(smtp):
    with Mailer(settings(smtp.port)) as mailer:
        mailer.send(message("alice@example.org"))
        mailer.send(message("bob@example.org"))
    assert [r.to for r in smtp.take()] == [["alice@example.org"], ["bob@example.org"]]


def test_a_4xx_reply_is_temporary(smtp):
    smtp.handler.reply = "451 4.3.0 Mail server temporarily rejected message"
    with Mailer(settings(smtp.port)) as mailer, pytest.raises(TemporaryFailure, match="SMTP 451"):
        mailer.send(message())


def test_a_5xx_reply_is_permanent_and_names_no_address(smtp):
    smtp.handler.refuse = {"bob@example.org"}
    with Mailer(settings(smtp.port)) as mailer:
        with pytest.raises(PermanentFailure) as raised:
            mailer.send(message("bob@example.org"))
        mailer.send(message("alice@example.org"))  # the next message starts on a fresh connection
    assert "SMTP 550" in str(raised.value) and "bob@example.org" not in str(raised.value)
    assert [r.to for r in smtp.take()] == [["alice@example.org"]]


def test_nobody_listening_is_temporary():
    with Mailer(settings(free_port())) as mailer, pytest.raises(TemporaryFailure, match="connection failed"):
        mailer.send(message())


def test_starttls_the_server_does_not_offer_is_temporary(smtp):
    with Mailer(settings(smtp.port, starttls=True)) as mailer, pytest.raises(TemporaryFailure, match="STARTTLS"):
        mailer.send(message())
    assert smtp.take() == []
