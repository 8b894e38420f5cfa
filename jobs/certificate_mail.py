"""The certificate-mail job: plan "your certificate is ready" for members whose lines staff approved
(`zoombot.mail.member.plan_certificate_mail`); the sending job sends them."""

from __future__ import annotations

from zoombot.mail.member import plan_certificate_mail
from zoombot.runtime import Runtime


def plan_certificates(runtime: Runtime) -> int:
    with runtime.db.begin() as session:
        return plan_certificate_mail(session, runtime.settings, runtime.now())
