"""User-facing error types.

Every error a user can cause (bad input file, bad config key, missing weights) raises a subclass of
:class:`FastVSRError` whose message is one actionable line. Command-line entry points catch these through
:func:`fastvsr.cli.run_main` and exit with code 2 without a traceback; anything else is a bug and keeps its
traceback.
"""


class FastVSRError(Exception):
    """Base class of every error caused by user input; ``str(err)`` is a complete one-line message."""

    exit_code = 2


class ConfigError(FastVSRError):
    """A config file or ``key=value`` override is invalid (unknown key, wrong type, bad value)."""


class InputError(FastVSRError):
    """An input file or argument cannot be used (missing, unreadable, zero frames, unsupported format)."""


class OutputError(FastVSRError):
    """An output cannot be written (exists without ``--overwrite``, would overwrite the input, bad folder)."""


class WeightsMissingError(FastVSRError):
    """Model or metric weights are not present locally (nothing is ever downloaded)."""
