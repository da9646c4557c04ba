"""Named exceptions. The command line maps them to exit codes (DESIGN.md section 8).

Every message names the file, variable, key or value at fault and says what was expected,
so that it can be shown to a user as one line without a traceback.
"""


class TokenworldError(Exception):
    """Base class of Tokenworld's own errors."""

    exit_code = 1


class BadInput(TokenworldError):
    """The user gave something we cannot run: exit code 2, nothing written."""

    exit_code = 2


class UnknownName(BadInput):
    """A variable, scenario, policy or argument name that does not exist."""


class OutOfRange(BadInput):
    """A value outside the range declared for it."""


class ModelError(BadInput):
    """A model file that cannot be read or translated."""


class UnsupportedConstruct(BadInput):
    """A model construct an engine does not support; refused rather than answered wrongly."""


class Diverged(TokenworldError):
    """A run whose values became non-finite or exceeded the divergence bound: exit code 3."""

    exit_code = 3
