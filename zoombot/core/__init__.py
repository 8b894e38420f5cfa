"""The pure core: zoombot's rules as functions on plain data.

Attendance (who was there, and when), sessions (which Zoom instances make one occurrence), the hours policy
and credit lines (what a person is credited, split into growth and training), schedules and recurrences,
agendas, calendar files, closures, retention rules, participant matching and flags, the timeline picture,
and the small value rules beside them (roles, plurals, join links, signed link tokens, passwords).

May import: the standard library, `zoombot.core` itself, and pure libraries (dateutil, icalendar,
itsdangerous, werkzeug's password hashing). Never I/O: no SQLAlchemy, Flask, requests, smtplib, sockets or
files, and no clock (callers pass `now`). `tests/test_import_contract.py` keeps it so. Everything here is
tested exhaustively in `tests/core/` (hypothesis where a rule has a law).
"""
