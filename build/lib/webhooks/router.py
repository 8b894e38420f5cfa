"""Route events to handlers by event name (one small function per name), like gidgethub's Router."""
from __future__ import annotations

from typing import Any, Callable

Handler = Callable[..., Any]


class Router:
    def __init__(self, *others: Router):
        self._routes: dict[str, list[Handler]] = {}
        for other in others:
            for name, handlers in other._routes.items():
                self._routes.setdefault(name, []).extend(handlers)

    def add(self, func: Handler, event_name: str) -> None:
        self._routes.setdefault(event_name, []).append(func)

    def register(self, event_name: str) -> Callable[[Handler], Handler]:
        def decorator(func: Handler) -> Handler:
            self.add(func, event_name)
            return func
        return decorator

    def handles(self, event_name: str) -> bool:
        return event_name in self._routes

    def handlers(self, event_name: str) -> tuple[Handler, ...]:
        return tuple(self._routes.get(event_name, ()))

    @property
    def event_names(self) -> list[str]:
        return sorted(self._routes)

    def dispatch(self, event, *args: Any, **kwargs: Any) -> bool:
        """Call every handler for `event.name`; False when none is registered (kept, no effect)."""
        handlers = self._routes.get(event.name, [])
        for handler in handlers:
            handler(event, *args, **kwargs)
        return bool(handlers)
