"""The Router: handlers by event name, composition, unknown names finding nothing."""

from __future__ import annotations

from webhooks.event import Event
from webhooks.router import Router
from webhooks.routes import router as zoombot_router


def event(name: str) -> Event:
    return Event.from_json({"event": name, "event_ts": 1})


def test_register_and_dispatch_in_registration_order():
    router = Router()
    calls = []

    @router.register("meeting.started")
    def first(ev, ctx):
        calls.append(("first", ev.name, ctx))

    router.add(lambda ev, ctx: calls.append(("second", ev.name, ctx)), "meeting.started")
    assert router.dispatch(event("meeting.started"), "ctx") is True
    assert calls == [("first", "meeting.started", "ctx"), ("second", "meeting.started", "ctx")]
    assert first.__name__ == "first"  # the decorator hands the function back unchanged


def test_unknown_event_finds_no_handler():
    router = Router()
    router.add(lambda ev: (_ for _ in ()).throw(AssertionError("must not run")), "meeting.started")
    assert router.handles("meeting.sharing_started") is False
    assert router.dispatch(event("meeting.sharing_started")) is False


def test_routers_compose():
    a, b = Router(), Router()
    seen = []
    a.add(lambda ev: seen.append("a"), "meeting.ended")
    b.add(lambda ev: seen.append("b"), "meeting.ended")
    b.add(lambda ev: seen.append("b2"), "meeting.started")
    both = Router(a, b)
    both.dispatch(event("meeting.ended"))
    both.dispatch(event("meeting.started"))
    assert seen == ["a", "b", "b2"]
    assert both.event_names == ["meeting.ended", "meeting.started"]
    a.add(lambda ev: seen.append("late"), "meeting.deleted")  # composition copied, not aliased
    assert not both.handles("meeting.deleted")


def test_zoombot_handles_the_events_the_issue_names():
    expected = {
        "meeting.started",
        "meeting.ended",
        "meeting.participant_joined",
        "meeting.participant_left",
        "meeting.participant_joined_waiting_room",
        "meeting.participant_admitted",
        "meeting.participant_put_in_waiting_room",
        "meeting.participant_left_waiting_room",
        "meeting.created",
        "meeting.updated",
        "meeting.deleted",
    }
    assert expected <= set(zoombot_router.event_names)
    assert not zoombot_router.handles("endpoint.url_validation")  # answered by the view, never stored


def test_handlers_declare_when_storing_is_enough_while_the_meeting_is_open():
    inner, other = Router(), Router()

    @inner.register("meeting.participant_joined", store_only_while_open=True)
    def joined(event, ctx):
        pass

    @other.register("meeting.participant_joined")
    def also(event, ctx):  # a second handler that does more than store: the hot path no longer applies
        pass

    assert inner.store_only_while_open("meeting.participant_joined")
    assert not Router(inner, other).store_only_while_open("meeting.participant_joined")
    assert not inner.store_only_while_open("meeting.ended")  # no handler at all


def test_the_real_routes_store_only_participant_events_while_open():
    from webhooks.routes import router

    assert {name for name in router.event_names if router.store_only_while_open(name)} == {
        "meeting.participant_joined",
        "meeting.participant_left",
        "meeting.participant_joined_waiting_room",
        "meeting.participant_left_waiting_room",
        "meeting.participant_admitted",
        "meeting.participant_put_in_waiting_room",
        "meeting.participant_joined_breakout_room",
        "meeting.participant_left_breakout_room",
    }  # a bind is also audited: it takes the general path
