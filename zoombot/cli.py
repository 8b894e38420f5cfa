"""The `zoombot` command (also `python -m zoombot`): one group assembling each area's commands.

Every failure ends in one clear line on standard error and a non-zero exit status.
"""
from __future__ import annotations

import sys

import click
from sqlalchemy.exc import OperationalError

from zoombot.commands import CliState, pass_runtime
from zoombot.commands.attendance import attendance
from zoombot.commands.database import db


class Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            raise click.ClickException(f"database unavailable: {type(exc.orig).__name__}") from None


@click.group(cls=Group)
@click.option("--config", "config_path", envvar="ZOOMBOT_CONFIG", default=None,
              help="TOML configuration file (default: $ZOOMBOT_CONFIG, else ./config.toml if present).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """zoombot: attendance, agendas and growth hours for Communities of Practice on Zoom."""
    ctx.obj = CliState(config_path)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Serve the web tier only.")
@pass_runtime
def serve(runtime, host: str, port: int, no_scheduler: bool) -> None:
    """The whole service in one process: webhook receiver, staff UI and (unless told not to) the jobs."""
    from werkzeug.serving import run_simple

    from zoombot.app import create_app

    app = create_app(runtime=runtime)
    scheduler = None
    if not no_scheduler:
        from jobs.runner import start_background

        scheduler = start_background(runtime)
    click.echo(f"zoombot serving on http://{host}:{port}/ (staff UI at http://{host}:{port}/staff/)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


main.add_command(db)
main.add_command(attendance)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
