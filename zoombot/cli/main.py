"""The `zoombot` command (also `python -m zoombot`): one group assembling each area's commands.

Every failure ends in one clear line on standard error and a non-zero exit status.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import OperationalError

from zoombot.cli import CliState, pass_runtime
from zoombot.cli.attendance import attendance
from zoombot.cli.database import db
from zoombot.cli.demo import demo
from zoombot.cli.directory import community, members, staff
from zoombot.cli.hours import hours
from zoombot.cli.mail import mail
from zoombot.cli.member_links import link as member_link
from zoombot.cli.registry import registry_group
from zoombot.cli.zoom import backfill, zoom
from zoombot.config import local_base_url_warning


class Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            raise click.ClickException(f"database unavailable: {type(exc.orig).__name__}") from None


@click.group(cls=Group)
@click.option(
    "--config",
    "config_path",
    envvar="ZOOMBOT_CONFIG",
    default=None,
    help="TOML configuration file (default: $ZOOMBOT_CONFIG, else ./config.toml if present).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """zoombot: attendance, agendas and growth hours for Communities of Practice on Zoom."""
    ctx.obj = CliState(config_path)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes.")
@click.option("--no-scheduler", is_flag=True, help="Serve the web tier only.")
@click.pass_obj
def serve(state: CliState, host: str, port: int, workers: int, no_scheduler: bool) -> None:
    """The whole service: webhook receiver and staff UI (gunicorn) and, beside it, the jobs. Ctrl-C stops it."""
    from zoombot import logging_setup
    from zoombot.cli.serve import ServerFailed, run

    runtime = state.runtime()
    logging_setup.configure(runtime.settings)  # the scheduler's logs, like the workers'
    warning = local_base_url_warning(runtime.settings.web, host)
    if warning:
        click.echo(f"warning: {warning}", err=True)

    def ready() -> None:
        jobs = "" if no_scheduler else " and the scheduler"
        click.echo(
            f"zoombot serving on http://{host}:{port}/ (staff UI at http://{host}:{port}/staff/){jobs}; Ctrl-C stops it"
        )

    try:
        run(
            runtime,
            host=host,
            port=port,
            workers=workers,
            scheduler=not no_scheduler,
            config_path=state.config_path,
            ready=ready,
        )
    except ServerFailed as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("zoombot stopped")


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
    if warning := local_base_url_warning(runtime.settings.web):
        click.echo(f"warning: {warning}", err=True)
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
main.add_command(registry_group)
main.add_command(zoom)
attendance.add_command(backfill)
members.add_command(member_link)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
