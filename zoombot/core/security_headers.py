"""Security headers on every response zoombot sends.

The pages run no script at all and take styles only from their own stylesheets, so the policy can be
strict: `default-src 'none'` forbids scripts, frames, plugins and connections outright, and an injected
`<script>` or `style="..."` (should escaping ever fail) does nothing. Pages cannot be framed
(clickjacking on the approve buttons), browsers never guess a content type (an uploaded or exported text
rendered as HTML), and no address leaves in a Referer header: page URLs carry meeting ids, and members'
resource links carry their personal token.
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)
