"""Zoom's REST API: the client (Server-to-Server OAuth, retries, errors), report rows as events, syncing a
community's recurring meeting, and reconciliation with the participant report.

May import: `zoombot.core`, `zoombot.store`, `zoombot.config`, requests. The only package that talks to Zoom.
"""
