"""Running a script's ``main`` as its command line does (through ``run_main``) in tests."""

import pytest

from fastvsr.cli import run_main


def one_line_error(main, argv, capsys) -> str:
    """The one-line stderr of a run of ``main`` that stops with a user error (exit code 2)."""
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    return err
