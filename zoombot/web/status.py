"""/staff/status: the operator's page (network staff only): is Zoom reaching us, is anything stuck or
failed, did the jobs run, and how this installation is set up. Read-only; see `zoombot.store.status`."""

from __future__ import annotations

from flask import Blueprint, render_template

from zoombot.store import status
from zoombot.web.staff import add_nav_link
from zoombot.web.staff.auth import require, runtime

bp = Blueprint("staff_status", __name__, url_prefix="/staff")
add_nav_link("Status", "staff_status.page", "status")


@bp.get("/status")
@require("status")  # facilitators see their own communities only; this page spans all
def page():
    return render_template("staff/status.html", s=status.snapshot(runtime()))
