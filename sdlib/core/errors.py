"""Named exceptions. The command line maps them to exit codes (DESIGN.md section 8).

Every message names the file, variable, key or value at fault and says what was expected,
so that it can be shown to a user as one line without a traceback.
"""


class TokenworldError(Exception):
    """Base class of Tokenworld's own errors.

    `argument` names the library argument at fault (e.g. "time_step", "set") when the value came
    from a caller rather than a file; the message then begins with it, and the command line
    shows its own flag (`--time-step`) in its place.
    """

    exit_code = 1

    def __init__(self, message: str, argument: str | None = None):
        super().__init__(message)
        self.argument = argument


def argument_of(source: str) -> str | None:
    """A source that is a plain identifier ("set", "vary") is a library argument; others name a
    file or a policy ("baseline.toml", "policy 'frontier-rd'")."""
    return source if source.isidentifier() else None


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


class MissingExtra(TokenworldError):
    """An optional dependency is not installed: exit code 2, with the `pip install` line that adds it."""

    exit_code = 2


def require(module: str, extra: str, purpose: str) -> None:
    """Refuse clearly when an optional dependency is missing (its import is left to the caller)."""
    from importlib.util import find_spec

    if find_spec(module) is None:
        raise MissingExtra(
            f"{purpose} needs the optional package '{module}': pip install 'tokenworld[{extra}]'"
        )
