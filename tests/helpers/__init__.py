"""Helpers the tests share: recorded Zoom events signed as Zoom signs them, scratch databases, a hand-driven
clock, real servers (SMTP, gunicorn, a private PostgreSQL cluster), and the staff UI's sign-in. Fixtures live
in tests/conftest.py (and, for mail tests, tests/helpers/mail.py); everything else a test needs is here."""
