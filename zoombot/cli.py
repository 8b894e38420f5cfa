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
from zoombot.commands.demo import demo
from zoombot.commands.directory import community, members, staff
from zoombot.commands.hours import hours
from zoombot.commands.mail import mail
from zoombot.commands.zoom import backfill, zoom


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


@main.command()
@click.option("--once", is_flag=True, help="Run every job once, in order, then exit (e.g. from cron).")
@pass_runtime
def scheduler(runtime, once: bool) -> None:
    """The job runner alone: plan meetings and messages, send them, finalize meetings.

    Any number may run at once (against PostgreSQL): no message is ever sent twice."""
    from jobs import runner

    if once:
        for name, result in runner.run_once(runtime).items():
            click.echo(f"{name}: {result}")
        return
    from zoombot import logging_setup

    logging_setup.configure(runtime.settings)  # a long-running service: structured logs, as the web tier
    click.echo("zoombot scheduler running (Ctrl+C to stop)")
    runner.run_blocking(runtime)


main.add_command(db)
main.add_command(attendance)
main.add_command(demo)
main.add_command(community)
main.add_command(members)
main.add_command(staff)
main.add_command(hours)
main.add_command(mail)
main.add_command(zoom)
attendance.add_command(backfill)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
