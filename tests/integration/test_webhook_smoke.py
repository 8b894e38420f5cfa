from conftest import zoom_event


def test_joined_and_left_then_ended_builds_attendance(post_event, runtime):
    from zoombot.models import HoursRecord, Participant
    from sqlalchemy import select
    assert post_event(zoom_event("meeting_started")).status_code == 200
    assert post_event(zoom_event("participant_joined")).json == {"status": "stored"}
    assert post_event(zoom_event("participant_left")).json == {"status": "stored"}
    assert post_event(zoom_event("meeting_ended")).json == {"status": "stored"}
    with runtime.db.begin() as s:
        p = s.scalars(select(Participant)).one()
        assert p.attended_seconds == 6890  # 22:30:10 -> 00:25:00
        r = s.scalars(select(HoursRecord)).one()
        assert r.status == "pending"
