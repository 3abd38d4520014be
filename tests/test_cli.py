import argparse

import pytest

from fastvsr.cli import add_config_arguments, config_overrides, run_main
from fastvsr.errors import InputError


def _parser(required=False):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, required=required)
    parser.add_argument("--flag")
    return parser


@pytest.mark.parametrize(
    "argv, files, overrides",
    [
        (["--config", "a.yaml", "k=1", "j=2"], ["a.yaml"], ["k=1", "j=2"]),
        (["k=1", "--config", "a.yaml", "b.yaml"], ["a.yaml", "b.yaml"], ["k=1"]),
        (["--config", "a.yaml", "--flag", "x", "k=5"], ["a.yaml"], ["k=5"]),
        (["--config", "odd=name.yaml"], ["odd=name.yaml"], []),
        ([], [], []),
    ],
)
def test_config_files_and_overrides_in_any_order(argv, files, overrides):
    args = _parser().parse_args(argv)
    assert args.config == files
    assert config_overrides(args) == overrides


def test_run_main_turns_user_errors_into_one_line_exit_2(capsys):
    def main(argv):
        raise InputError("input nope.mp4 does not exist")

    with pytest.raises(SystemExit) as info:
        run_main(main, [])
    assert info.value.code == 2
    assert capsys.readouterr().err == "error: input nope.mp4 does not exist\n"
