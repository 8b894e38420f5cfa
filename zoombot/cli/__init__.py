"""Command-line commands, one module per area; `zoombot.cli.main` assembles them into one group."""

from __future__ import annotations

import functools
from collections.abc import Callable

import click

from zoombot.config import ConfigError, load_settings
from zoombot.runtime import Runtime


class CliState:
    """Loads settings and opens the database only when a command needs them."""

    def __init__(self, config_path: str | None):
        self.config_path = config_path
        self._runtime: Runtime | None = None

    def runtime(self, *, check_schema: bool = True) -> Runtime:
        if self._runtime is None:
            try:
                self._runtime = Runtime.from_settings(load_settings(self.config_path))
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        if check_schema:
            from zoombot.store.migrate import pending

            if pending(self._runtime.db):
                raise click.ClickException("the database schema is not up to date: run `zoombot db upgrade`")
        return self._runtime


def pass_runtime(func: Callable | None = None, *, check_schema: bool = True):
    """Hand the command a ready Runtime as its first argument."""

    def decorate(f: Callable) -> Callable:
        @click.pass_obj
        @functools.wraps(f)
        def wrapper(state: CliState, *args, **kwargs):
            return f(state.runtime(check_schema=check_schema), *args, **kwargs)

        return wrapper

    return decorate(func) if func is not None else decorate
