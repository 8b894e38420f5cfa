"""Under gunicorn the app factory reads the configuration itself: a bad value is one clear line."""

import pytest

from zoombot.app import create_app


def test_a_bad_setting_stops_the_app_factory_with_one_line_naming_the_key(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no ./config.toml
    monkeypatch.delenv("ZOOMBOT_CONFIG", raising=False)
    monkeypatch.setenv("ZOOMBOT_HOURS_CAP", "sometimes")
    monkeypatch.setenv("ZOOMBOT_ZOOM_CLIENT_SECRET", "do-not-print-me")
    with pytest.raises(SystemExit) as stopped:
        create_app()
    message = str(stopped.value.code)
    assert message.startswith("zoombot: [hours] cap must be one of")
    assert "\n" not in message and "do-not-print-me" not in message
