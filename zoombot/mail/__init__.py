"""Mail: what each message says (`messages`, Jinja templates in `templates/`), the facts a message needs
read from the database (`context`), the preview of a meeting's messages, and sending over SMTP (`sending`).

May import: `zoombot.core`, `zoombot.store`, `zoombot.config`, Jinja2, smtplib.
"""
