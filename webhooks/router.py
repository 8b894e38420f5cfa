"""Route events to handlers by event name (one small function per name), like gidgethub's Router.

A handler may declare `store_only_while_open`: while the event's meeting exists and has not ended, storing
the event is all it would do (attendance is computed from stored events when the meeting ends). The delivery
hot path (`webhooks.delivery`) asks the router, so the rule lives with the handlers that make it true.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[..., Any]


class Router:
    def __init__(self, *others: Router):
        self._routes: dict[str, list[Handler]] = {}
        self._store_only: set[Handler] = set()
        for other in others:
            for name, handlers in other._routes.items():
                self._routes.setdefault(name, []).extend(handlers)
            self._store_only |= other._store_only

    def add(self, func: Handler, event_name: str, *, store_only_while_open: bool = False) -> None:
        self._routes.setdefault(event_name, []).append(func)
        if store_only_while_open:
            self._store_only.add(func)

    def register(self, event_name: str, *, store_only_while_open: bool = False) -> Callable[[Handler], Handler]:
        def decorator(func: Handler) -> Handler:
            self.add(func, event_name, store_only_while_open=store_only_while_open)
            return func

        return decorator

    def handles(self, event_name: str) -> bool:
        return event_name in self._routes

    def handlers(self, event_name: str) -> tuple[Handler, ...]:
        return tuple(self._routes.get(event_name, ()))

    def store_only_while_open(self, event_name: str) -> bool:
        """True when every handler of the event only needs it stored while its meeting is open."""
        handlers = self._routes.get(event_name, [])
        return bool(handlers) and all(h in self._store_only for h in handlers)

    @property
    def event_names(self) -> list[str]:
        return sorted(self._routes)

    def dispatch(self, event, *args: Any, **kwargs: Any) -> bool:
        """Call every handler for `event.name`; False when none is registered (kept, no effect)."""
        handlers = self._routes.get(event.name, [])
        for handler in handlers:
            handler(event, *args, **kwargs)
        return bool(handlers)
