"""The database: the engine, typed models, migrations, and the repositories that load plain data for the
core and write its results (meetings and sessions, credit lines and their review, the directory, agendas,
closures, the outbox, exports, the audit trail).

May import: `zoombot.core`, `zoombot.config`, SQLAlchemy and Alembic. Never Flask, requests or smtplib:
views, jobs and the webhook receiver call into here, not the other way round.
"""
