"""config.example.toml documents every key with its built-in default."""

import dataclasses
import tomllib
from pathlib import Path

from zoombot.config import Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_example_values_are_the_defaults():
    assert load_settings(EXAMPLE, environ={}) == Settings()


def test_example_names_every_key():
    documented = tomllib.loads(EXAMPLE.read_text())
    for section in dataclasses.fields(Settings):
        keys = {f.name for f in dataclasses.fields(section.default_factory())}
        assert set(documented[section.name]) == keys, section.name
