"""Export (network staff): choose dates and a status (approved by default), download CSV or JSON for an
ad-hoc report (via `zoombot.store.export`). What goes to the registry goes through a submission batch
(`zoombot.web.staff.views_registry`), which records exactly what was sent; "mark as exported" is gone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Response, flash, redirect, render_template, request, url_for

from zoombot.store import export as exporting
from zoombot.web.staff import bp
from zoombot.web.staff.auth import require, runtime, signed_in_user, visible_community_ids

# Full Content-Type values, passed as content_type: given as a mimetype, Flask would append its own
# "; charset=utf-8" to a text/* type a second time.
FORMATS = {"csv": ("text/csv; charset=utf-8", exporting.to_csv), "json": ("application/json", exporting.to_json)}


@dataclass(frozen=True)
class Filter:
    date_from: date | None = None
    date_to: date | None = None
    status: str | None = "approved"
    new_only: bool = False

    @classmethod
    def from_args(cls, args) -> tuple[Filter, str | None]:
        """The filter as given, and a message when part of it could not be understood."""
        try:
            date_from = date.fromisoformat(args["from"]) if args.get("from") else None
            date_to = date.fromisoformat(args["to"]) if args.get("to") else None
        except ValueError:
            return cls(), "Dates must look like 2026-10-13."
        status = args.get("status", "approved") or None  # "" (any) shows every line
        if status is not None and status not in exporting.STATUSES:
            return cls(), "Unknown status."
        if date_from and date_to and date_to < date_from:
            return cls(), "The end date is before the start date."
        return cls(date_from, date_to, status, bool(args.get("new_only"))), None

    def query(self, **extra) -> dict:
        out = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "status": self.status or "",
        }
        if self.new_only:
            out["new_only"] = "1"
        return {**out, **extra}

    def rows(self, session, *, status: str | None = None) -> list[dict]:
        visible = visible_community_ids(session, signed_in_user())
        rows = exporting.export_rows(
            session,
            status=status or self.status,
            date_from=self.date_from,
            date_to=self.date_to,
            settings=runtime().settings,
            community_ids=None if visible is None else sorted(visible),
        )
        return [r for r in rows if r["exported_at"] is None] if self.new_only else rows


@bp.get("/export")
@require("export")
def export():
    chosen, error = Filter.from_args(request.args)
    if error:
        flash(error, "error")
    with runtime().db.begin() as s:
        rows = chosen.rows(s)
    lines = {r["record_id"]: r for r in rows}  # a line has a row per kind: count lines
    summary = {status: sum(1 for r in lines.values() if r["status"] == status) for status in exporting.STATUSES}
    return render_template(
        "staff/export.html",
        chosen=chosen,
        summary=summary,
        total=len(lines),
        rows=len(rows),
        statuses=exporting.STATUSES,
    )


@bp.get("/export/download")
@require("export")
def export_download():
    chosen, error = Filter.from_args(request.args)
    kind = request.args.get("format", "csv")
    if error or kind not in FORMATS:
        flash(error or "Unknown format.", "error")
        return redirect(url_for("staff.export"))
    with runtime().db.begin() as s:
        rows = chosen.rows(s)
    content_type, render = FORMATS[kind]
    query = chosen.query()
    name = "-".join(["hours", *filter(None, [query["from"], query["to"], chosen.status])])
    return Response(
        render(rows),
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"', "Cache-Control": "no-store"},
    )
