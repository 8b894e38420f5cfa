"""`zoombot hours export`: hours records as CSV or JSON for the licensing registry."""

from __future__ import annotations

from datetime import date

import click

from zoombot.cli import pass_runtime
from zoombot.store import export


class DateParam(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            self.fail(f"{value!r} is not a date as YYYY-MM-DD", param, ctx)


@click.group("hours")
def hours() -> None:
    """Growth and training hours."""


@hours.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option(
    "--status",
    type=click.Choice((*export.STATUSES, "any")),
    default="approved",
    show_default=True,
    help="Only lines with this status (any: every line, pending ones included).",
)
@click.option("--from", "date_from", type=DateParam(), default=None, help="First session date (inclusive).")
@click.option("--to", "date_to", type=DateParam(), default=None, help="Last session date (inclusive).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write to this file instead of standard output.",
)
@click.option("--mark-exported", is_flag=True, hidden=True)
@pass_runtime
def export_hours(runtime, fmt, status, date_from, date_to, output, mark_exported) -> None:
    """Credit lines for an ad-hoc report, one row per line and kind (growth or training). What goes to the
    registry goes through `zoombot registry submit`, which records it."""
    if mark_exported:
        raise click.ClickException(
            "--mark-exported is replaced by `zoombot registry submit`, which writes the "
            "registry's file, records the batch and marks exactly its lines submitted"
        )
    status = None if status == "any" else status
    if date_from and date_to and date_from > date_to:
        raise click.ClickException("--from is after --to")
    with runtime.db.begin() as session:
        rows = export.export_rows(
            session, status=status, date_from=date_from, date_to=date_to, settings=runtime.settings
        )
    text = export.to_csv(rows) if fmt == "csv" else export.to_json(rows)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            with open(output, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    if output is not None:
        click.echo(f"exported {len(rows)} records to {output}", err=True)
