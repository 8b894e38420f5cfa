"""`zoombot registry submit|batches|download`: submission batches for the licensing registry."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zoombot.cli import pass_runtime
from zoombot.core.plurals import plural
from zoombot.store import registry
from zoombot.store.models import SubmissionBatch

ACTOR = "cli"


@click.group("registry")
def registry_group() -> None:
    """Submissions to the licensing registry (`[registry]` profile)."""


def _write(path: str, content: bytes) -> None:
    try:
        if path == "-":
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
        else:
            Path(path).write_bytes(content)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None


@registry_group.command("submit")
@click.option("--format", "fmt", type=click.Choice(registry.FORMATS), default="csv", show_default=True)
@click.option(
    "--output", default=None, help="The file to write (default: the batch's file name here; - for standard output)."
)
@pass_runtime
def submit(runtime, fmt, output) -> None:
    """Send every approved line not yet submitted: write the file, record the batch, mark its lines
    submitted (final). Lines that fail validation are held back and listed with the reason."""
    if output == "-" and fmt == "xlsx":
        raise click.ClickException("an XLSX file cannot go to standard output: give --output FILE")
    with runtime.db.begin() as session:  # the file is written before the batch is committed: no write, no batch
        try:
            outcome = registry.submit(session, runtime.settings, actor=ACTOR, now=runtime.now(), fmt=fmt)
        except registry.SubmissionError as exc:
            raise click.ClickException(str(exc)) from None
        target = output or outcome.filename
        _write(target, outcome.content)
    for held in outcome.held:
        click.echo(f"held back line {held.line_id} ({held.who}, {held.session}): {'; '.join(held.reasons)}", err=True)
    shown = "standard output" if target == "-" else target
    if outcome.batch_id is None:
        click.echo(
            f"nothing new to submit: wrote an empty file to {shown}"
            + (f" ({plural(len(outcome.held), 'line')} held back)" if outcome.held else ""),
            err=True,
        )
        return
    click.echo(
        f"batch {outcome.batch_id}: {plural(outcome.lines, 'line')} ({plural(outcome.rows, 'row')}) "
        f"written to {shown} and marked submitted"
        + (f"; {plural(len(outcome.held), 'line')} held back" if outcome.held else ""),
        err=True,
    )


@registry_group.command("batches")
@pass_runtime
def list_batches(runtime) -> None:
    """Every submission batch, newest first."""
    with runtime.db.begin() as session:
        found = [registry.batch_summary(b) for b in registry.batches(session, limit=1000)]
    if not found:
        click.echo("no batches yet: `zoombot registry submit` makes the first")
        return
    for b in found:
        click.echo(
            f"{b['id']:>5}  {b['created_at']:%Y-%m-%d %H:%M} UTC  {b['created_by']:<28} "
            f"{plural(b['lines'], 'line'):>10} {plural(b['rows'], 'row'):>9}  held back {b['held_back']:<4} "
            f"{b['filename']}"
        )


@registry_group.command("download")
@click.argument("batch_id", type=int)
@click.option(
    "--output", default=None, help="The file to write (default: the batch's file name; - for standard output)."
)
@pass_runtime
def download(runtime, batch_id, output) -> None:
    """Write a batch's file again, byte for byte as it was sent."""
    with runtime.db.begin() as session:
        batch = session.get(SubmissionBatch, batch_id)
        if batch is None:
            raise click.ClickException(f"no batch {batch_id}")
        content, name = batch.content, batch.filename
    _write(output or name, content)
    if output != "-":
        click.echo(f"batch {batch_id} written to {output or name}", err=True)
