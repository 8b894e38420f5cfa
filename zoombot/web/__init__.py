"""The web tier: Flask blueprints for staff (`staff/`), agendas and closures, the public member pages
(unsubscribe, resources), health, metrics and security headers. `zoombot.app.create_app` assembles them with
the webhook receiver.

May import: `zoombot.core`, `zoombot.store`, `zoombot.mail`, `zoombot.zoom`, Flask. Views are thin: each reads a
form, calls one store function, and renders or redirects.
"""
