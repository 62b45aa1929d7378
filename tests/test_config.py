"""Typed configs: overrides, validation, YAML round trip."""

from __future__ import annotations

import pytest

from ibkit._config import apply_override, from_dict, keys, to_dict, validate
from ibkit._errors import ConfigError
from ibkit.experiments import ExperimentConfig, resolve_config


def test_overrides_parse_by_field_type():
    c = resolve_config("demo", ["train.lr=3e-4", "train.epochs=7", "model.hidden=32,16",
                                "data.random_labels=true", "train.betas=0.5,0.999",
                                "data.data_dir=none"])
    assert c.train.lr == 3e-4 and c.train.epochs == 7 and c.model.hidden == (32, 16)
    assert c.data.random_labels is True and c.train.betas == (0.5, 0.999)
    assert c.data.data_dir is None


def test_common_options_override_the_preset():
    c = resolve_config("demo", [], data_dir="/d", device="cpu", seed=5)
    assert (c.data.data_dir, c.train.device, c.train.seed) == ("/d", "cpu", 5)


def test_yaml_dict_round_trip():
    c = resolve_config("demo", ["model.hidden=3,4"])
    assert from_dict(ExperimentConfig, to_dict(c)) == c


def test_every_key_is_settable():
    c = resolve_config("demo")
    assert "train.ema_decay" in keys(c) and "model.hidden" in keys(c)


@pytest.mark.parametrize(("assignment", "message"), [
    ("train.betas=0.5,2", r"'betas' parameter of TrainConfig must be <= 0.9999"),
    ("model.hidden=0", r"'hidden' parameter of ModelConfig must be >= 1"),
    ("train.progress=maybe", r"'train.progress' must be true or false"),
])
def test_bad_values(assignment, message):
    with pytest.raises(ConfigError, match=message):
        validate(apply_override(resolve_config("demo"), assignment))


def test_recipes_are_a_config_key_checked_against_the_registry():
    from ibkit._errors import ConfigError

    assert resolve_config("tishby-tanh").recipes == ("classification", "plane")
    assert resolve_config("tishby-tanh", ["recipes=classification"]).recipes == ("classification",)
    with pytest.raises(ConfigError, match=r"'recipes' parameter must name one or more of .*"
                                          r"Got \('nope',\) instead"):
        resolve_config("tishby-tanh", ["recipes=nope"])
    with pytest.raises(ConfigError, match=r"'model.name' parameter must be one of .*'mlp'.*"
                                          r"Got 'foo' instead"):
        resolve_config("digits-mlp", ["model.name=foo"])
