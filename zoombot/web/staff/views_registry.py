"""Registry submission in the staff UI (network staff only): what the next batch would send and what it
holds back, the submit button, and every batch with its file to download again (`zoombot.store.registry`)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for

from zoombot.core.plurals import plural
from zoombot.store import registry
from zoombot.store.models import SubmissionBatch
from zoombot.web.staff import bp
from zoombot.web.staff.auth import require, runtime, signed_in_user


@bp.get("/registry")
@require("registry")
def registry_page():
    rt = runtime()
    with rt.db.begin() as s:
        ready = registry.prepare(s, rt.settings)
        found = [registry.batch_summary(b) for b in registry.batches(s)]
    return render_template(
        "staff/registry.html",
        ready=ready,
        batches=found,
        profile=rt.settings.registry,
        formats=registry.FORMATS,
        tz=rt.settings.schedule.timezone,
    )


@bp.post("/registry/submit")
@require("submit")
def registry_submit():
    rt = runtime()
    fmt = request.form.get("format", "csv")
    try:
        with rt.db.begin() as s:
            outcome = registry.submit(s, rt.settings, actor=signed_in_user().email, now=rt.now(), fmt=fmt)
    except registry.SubmissionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.registry_page"))
    held = f" {plural(len(outcome.held), 'line')} held back (listed below)." if outcome.held else ""
    if outcome.batch_id is None:
        flash("Nothing new to submit: no approved line is waiting." + held, "ok")
        return redirect(url_for("staff.registry_page"))
    flash(
        f"Batch {outcome.batch_id}: {plural(outcome.lines, 'line')} ({plural(outcome.rows, 'row')}) marked "
        f"submitted. Download the file and send it to {rt.settings.registry.name}." + held,
        "ok",
    )
    return redirect(url_for("staff.registry_batch", batch_id=outcome.batch_id))


def _batch(batch_id: int) -> SubmissionBatch:
    with runtime().db.begin() as s:
        batch = s.get(SubmissionBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


@bp.get("/registry/batches/<int:batch_id>")
@require("registry")
def registry_batch(batch_id: int):
    batch = _batch(batch_id)
    return render_template(
        "staff/registry_batch.html",
        batch=registry.batch_summary(batch),
        held=list(batch.held_back),
        lines=list(batch.line_ids),
        tz=runtime().settings.schedule.timezone,
    )


@bp.get("/registry/batches/<int:batch_id>/download")
@require("registry")
def registry_download(batch_id: int):
    """The batch's file, byte for byte as it was made."""
    batch = _batch(batch_id)
    content, fmt, name = batch.content, batch.format, batch.filename
    return Response(
        content,
        content_type=registry.CONTENT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
