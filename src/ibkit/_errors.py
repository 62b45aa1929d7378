"""Errors raised at ibkit's public boundary, with one message shape.

Every message names the argument, the value received and what is allowed, as
in scikit-learn: "The 'n_bins' parameter of BinningEstimator must be an int >= 2.
Got 1 instead."  The CLI prints these on one line and exits with status 2.
"""

from __future__ import annotations

from typing import Any


class IbkitError(Exception):
    """Base class of every error ibkit raises on bad input or bad files."""


class ConfigError(IbkitError, ValueError):
    """A parameter, config key or preset name is not allowed."""


class DataError(IbkitError):
    """A data file is missing, unreadable or malformed."""


class ChecksumError(DataError):
    """A data file's checksum differs from the official one."""


class RunDirError(IbkitError):
    """A run directory cannot be created, reused or resumed as asked."""


def param_error(name: str, owner: str, allowed: str, got: Any) -> ConfigError:
    """Build the standard message for a parameter that is not allowed.

    Example:
        >>> str(param_error("n_bins", "BinningEstimator", "an int >= 2", 1))
        "The 'n_bins' parameter of BinningEstimator must be an int >= 2. Got 1 instead."
    """
    return ConfigError(f"The '{name}' parameter of {owner} must be {allowed}. Got {got!r} instead.")
