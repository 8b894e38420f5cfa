"""Configuration: TOML file, environment override (the environment wins), one-line errors, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from zoombot.config import ConfigError, load_settings
from zoombot.store.db import is_sqlite, normalize_url

SECRET = "s3cr3t-zoom-token-never-shown"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_values_are_read(tmp_path):
    path = write(
        tmp_path,
        f"""
[database]
url = "postgresql://zoombot@127.0.0.1:5432/zoombot"
[zoom]
webhook_secret_token = "{SECRET}"
timestamp_tolerance_seconds = 600
[hours]
rounding = "nearest"
minimum_minutes = 45
[mail]
starttls = true
""",
    )
    settings = load_settings(path, environ={})
    assert settings.database.url == "postgresql://zoombot@127.0.0.1:5432/zoombot"
    assert settings.zoom.webhook_secret_token == SECRET
    assert settings.zoom.timestamp_tolerance_seconds == 600
    assert settings.hours.rounding == "nearest" and settings.hours.minimum_minutes == 45
    assert settings.mail.starttls is True
    assert settings.hours.increment_minutes == 15  # untouched keys keep their defaults


def test_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, '[hours]\nminimum_minutes = 45\n[zoom]\nwebhook_secret_token = "from-file"\n')
    settings = load_settings(
        path,
        environ={
            "ZOOMBOT_HOURS_MINIMUM_MINUTES": "20",
            "ZOOMBOT_ZOOM_WEBHOOK_SECRET_TOKEN": "from-env",
            "ZOOMBOT_MAIL_STARTTLS": "yes",
            "ZOOMBOT_DATABASE_URL": "sqlite:///elsewhere.db",
        },
    )
    assert settings.hours.minimum_minutes == 20
    assert settings.zoom.webhook_secret_token == "from-env"
    assert settings.mail.starttls is True
    assert settings.database.url == "sqlite:///elsewhere.db"


def test_config_file_named_by_environment(tmp_path):
    path = write(tmp_path, '[schedule]\ntimezone = "Europe/Paris"\n')
    assert load_settings(environ={"ZOOMBOT_CONFIG": str(path)}).schedule.timezone == "Europe/Paris"


@pytest.mark.parametrize(
    "environ, key",
    [
        ({"ZOOMBOT_HOURS_MINIMUM_MINUTES": "half an hour"}, "[hours] minimum_minutes"),
        ({"ZOOMBOT_HOURS_ROUNDING": "up"}, "[hours] rounding"),
        ({"ZOOMBOT_HOURS_CAP": "sometimes"}, "[hours] cap"),
        ({"ZOOMBOT_ZOOM_TIMESTAMP_TOLERANCE_SECONDS": "0"}, "[zoom] timestamp_tolerance_seconds"),
        ({"ZOOMBOT_MAIL_STARTTLS": "perhaps"}, "[mail] starttls"),
        ({"ZOOMBOT_SCHEDULE_TIMEZONE": "Mars/Olympus"}, "[schedule] timezone"),
        ({"ZOOMBOT_DATABASE_URL": "mysql://root:hunter2@db/zoombot"}, "[database] url"),
        ({"ZOOMBOT_ZOOM_API_BASE_URL": "ftp://api.zoom.us"}, "[zoom] api_base_url"),
        ({"ZOOMBOT_MAIL_FROM_ADDRESS": "nobody"}, "[mail] from_address"),
    ],
)
def test_bad_values_give_one_line_naming_the_key(environ, key):
    with pytest.raises(ConfigError) as info:
        load_settings(path=None, environ=environ)
    message = str(info.value)
    assert key in message and "\n" not in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "text, key",
    [
        ('[hours]\nincrement_minutes = "fifteen"\n', "[hours] increment_minutes"),
        ("[hours]\nminimum_minutes = true\n", "[hours] minimum_minutes"),
        ("[zoom]\nwebhook_secret_token = {a = 1}\n", "[zoom] webhook_secret_token"),
        ("[zoom]\nno_such_key = 1\n", "[zoom] no_such_key"),
        ("[nonsense]\nkey = 1\n", "[nonsense]"),
        ("hours = 3\n", "[hours]"),
    ],
)
def test_bad_file_values_name_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), environ={})
    assert key in str(info.value) and "\n" not in str(info.value)


def test_missing_or_broken_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml", environ={})
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_settings(write(tmp_path, "[zoom\n"), environ={})
    assert "\n" not in str(info.value)


def test_secrets_never_appear_in_errors_or_reprs(tmp_path):
    secrets = {
        "ZOOMBOT_ZOOM_WEBHOOK_SECRET_TOKEN": SECRET,
        "ZOOMBOT_ZOOM_CLIENT_SECRET": SECRET + "-client",
        "ZOOMBOT_MAIL_PASSWORD": SECRET + "-mail",
        "ZOOMBOT_WEB_SECRET_KEY": SECRET + "-web",
        "ZOOMBOT_DATABASE_URL": f"postgresql://zoombot:{SECRET}-db@127.0.0.1/zoombot",
    }
    settings = load_settings(path=None, environ=secrets)
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    with pytest.raises(ConfigError) as info:
        load_settings(path=None, environ={**secrets, "ZOOMBOT_HOURS_CAP": SECRET})
    assert "[hours] cap" in str(info.value)


def test_cli_prints_one_line_and_no_secret(tmp_path, monkeypatch):
    from zoombot.cli.main import main

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main,
        ["db", "upgrade"],
        env={
            "ZOOMBOT_ZOOM_WEBHOOK_SECRET_TOKEN": SECRET,
            "ZOOMBOT_HOURS_ROUNDING": "sideways",
            "ZOOMBOT_DATABASE_URL": f"sqlite:///{tmp_path}/z.db",
            "ZOOMBOT_CONFIG": "",
        },
    )
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "[hours] rounding" in lines[0]
    assert SECRET not in result.output


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/zoombot",
        "postgres://postgres@127.0.0.1:5432/zoombot",
        "postgresql://user:pw@db.example.org/zoombot?sslmode=require",
    ],
)
def test_operator_style_postgresql_urls_are_accepted(url):
    settings = load_settings(path=None, environ={"ZOOMBOT_DATABASE_URL": url})
    assert settings.database.url == url
    assert normalize_url(url).startswith("postgresql+psycopg://")
    assert not is_sqlite(url)


def test_sqlite_url_is_sqlite():
    assert is_sqlite(load_settings(path=None, environ={"ZOOMBOT_DATABASE_URL": "sqlite:///var/z.db"}).database.url)


@pytest.mark.parametrize(
    "base_url, bind, proxies, warned",
    [
        ("http://127.0.0.1:8000", "127.0.0.1", 0, False),  # the laptop: both local
        ("http://localhost:8000", "localhost", 0, False),
        ("http://127.0.0.1:8000", "0.0.0.0", 0, True),  # listening beyond this machine
        ("http://localhost:8000", "10.0.0.5", 0, True),
        ("http://127.0.0.1:8000", "127.0.0.1", 1, True),  # behind a proxy: people come through it
        ("https://cop.example.org", "0.0.0.0", 1, False),
        ("https://cop.example.org", "127.0.0.1", 0, False),
    ],
)
def test_a_local_base_url_is_named_when_the_service_is_reached_from_elsewhere(base_url, bind, proxies, warned):
    from zoombot.config import WebSettings, local_base_url_warning

    warning = local_base_url_warning(WebSettings(base_url=base_url, proxy_fix=proxies), bind)
    assert (warning is not None) == warned
    if warned:
        assert base_url in warning and "certificates" in warning


def test_the_app_logs_a_local_base_url_behind_a_proxy(make_settings, caplog):
    """Production runs gunicorn itself (deploy/, Procfile), behind nginx with proxy_fix: the web tier's log
    says it once a worker builds the app."""
    from zoombot.app import create_app

    with caplog.at_level("WARNING", logger="zoombot.app"):
        create_app(make_settings(web={"proxy_fix": 1}))
    warned = [r.getMessage() for r in caplog.records if r.name == "zoombot.app"]
    assert len(warned) == 1 and warned[0].startswith("[web] base_url is http://127.0.0.1:8000, this machine's own")
    caplog.clear()
    with caplog.at_level("WARNING", logger="zoombot.app"):
        create_app(make_settings(web={"proxy_fix": 1, "base_url": "https://cop.example.org"}))
    assert [r for r in caplog.records if r.name == "zoombot.app"] == []
