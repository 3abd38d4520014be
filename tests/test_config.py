from dataclasses import dataclass, field
from enum import Enum

import pytest

from fastvsr.config import load_config, require, save_config
from fastvsr.errors import ConfigError


class Mode(str, Enum):
    off = "off"
    hinge = "hinge"


@dataclass
class Model:
    channels: int = 8
    mode: Mode = Mode.off

    def __post_init__(self):
        require(self.channels > 0, "model.channels must be positive")


@dataclass
class Schema:
    model: Model = field(default_factory=Model)
    lr: float = 1e-4


def test_yaml_base_and_overrides_merge_in_order(tmp_path):
    (tmp_path / "base.yaml").write_text("model:\n  channels: 4\nlr: 1.0e-3\n")
    (tmp_path / "child.yaml").write_text("_base_: base.yaml\nmodel:\n  mode: hinge\n")
    cfg = load_config(Schema, [tmp_path / "child.yaml"], ["lr=0.5"])
    assert cfg == Schema(model=Model(channels=4, mode=Mode.hinge), lr=0.5)


@pytest.mark.parametrize(
    "yaml_text, overrides, expected",
    [
        ("model:\n  chanels: 4\n", [], r"bad\.yaml: unknown key 'model\.chanels'"),
        ("model:\n  channels: four\n", [], r"bad\.yaml: key 'model\.channels'"),
        ("", ["model.mode=soft"], r"command line: key 'model\.mode': Invalid value 'soft'"),
        ("", ["nope=1"], r"command line: unknown key 'nope'"),
        ("", ["model.channels=0"], r"model\.channels must be positive"),
        ("", ["lr"], r"not of the form key=value"),
        ("- a\n- b\n", [], r"top level must be a mapping"),
        ("model: [\n", [], r"invalid YAML"),
    ],
)
def test_bad_config_is_one_line_error_naming_key_and_source(tmp_path, yaml_text, overrides, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(Schema, [path], overrides)
    assert "\n" not in str(info.value)


def test_missing_file_and_save_roundtrip(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(Schema, [tmp_path / "missing.yaml"])
    cfg = Schema(model=Model(channels=3, mode=Mode.hinge))
    out = save_config(cfg, tmp_path / "run" / "config.yaml")
    assert load_config(Schema, [out]) == cfg


@dataclass
class WithList:
    sizes: list[int] = field(default_factory=lambda: [1, 2])


def test_list_overrides_by_index_and_errors():
    assert load_config(WithList, [], ["sizes.0=5"]).sizes == [5, 2]
    assert load_config(WithList, [], ["sizes=[3,4,5]"]).sizes == [3, 4, 5]
    with pytest.raises(ConfigError, match=r"command line: .*sizes"):
        load_config(WithList, [], ["sizes.7=1"])


@dataclass
class Outer:
    MOVED_KEYS = {"old_lr": "write lr instead"}

    model: Model = field(default_factory=Model)
    other: Model = field(default_factory=Model)
    lr: float = 1e-4


def test_nested_base_composes_a_component_file_at_its_position(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "model.yaml").write_text("channels: 16\nmode: hinge\n")
    (tmp_path / "parts" / "wide.yaml").write_text("_base_: model.yaml\nchannels: 32\n")
    (tmp_path / "run.yaml").write_text("model:\n  _base_: parts/model.yaml\n  channels: 2\n"
                                       "other: {_base_: parts/wide.yaml}\nlr: 0.1\n")
    cfg = load_config(Outer, [tmp_path / "run.yaml"])
    assert cfg == Outer(model=Model(channels=2, mode=Mode.hinge), other=Model(channels=32, mode=Mode.hinge), lr=0.1)
    (tmp_path / "parts" / "bad.yaml").write_text("chanels: 3\n")
    (tmp_path / "bad_run.yaml").write_text("other: {_base_: parts/bad.yaml}\n")
    with pytest.raises(ConfigError, match=r"parts/bad\.yaml: unknown key 'other\.chanels'"):
        load_config(Outer, [tmp_path / "bad_run.yaml"])
    (tmp_path / "loop.yaml").write_text("model: {_base_: loop.yaml}\n")
    with pytest.raises(ConfigError, match="circular"):
        load_config(Outer, [tmp_path / "loop.yaml"])


def test_moved_keys_name_the_new_key(tmp_path):
    (tmp_path / "old.yaml").write_text("old_lr: 0.1\n")
    with pytest.raises(ConfigError, match=r"old\.yaml: key 'old_lr' moved: write lr instead"):
        load_config(Outer, [tmp_path / "old.yaml"])
    with pytest.raises(ConfigError, match=r"command line: key 'old_lr' moved: write lr instead"):
        load_config(Outer, [], ["old_lr=3"])


@dataclass
class WithModels:
    models: list[Model] = field(default_factory=list)


def test_list_entries_compose_their_own_bases(tmp_path):
    (tmp_path / "wide.yaml").write_text("channels: 32\nmode: hinge\n")
    (tmp_path / "run.yaml").write_text("models:\n  - {_base_: wide.yaml}\n  - {_base_: wide.yaml, channels: 3}\n"
                                       "  - {channels: 5}\n")
    cfg = load_config(WithModels, [tmp_path / "run.yaml"])
    assert cfg.models == [Model(32, Mode.hinge), Model(3, Mode.hinge), Model(5, Mode.off)]
