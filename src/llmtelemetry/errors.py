"""One small exception tree. The CLI maps each class to an exit code and `error:`/`fix:` lines."""

from __future__ import annotations


class LlmtelError(Exception):
    """Base of every error llmtel raises on purpose.

    `fix` is an optional one-line suggestion shown to the user after the message.
    """

    exit_code = 1

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


class ParameterError(LlmtelError, ValueError):
    """A parameter or option is invalid; raised before any work is done (exit 2).

    `param` names the parameter (a `GenerateConfig` field, say) so the CLI can name the option.
    """

    exit_code = 2

    def __init__(self, message: str, *, fix: str | None = None, param: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.param = param


class OutputError(LlmtelError):
    """The output location cannot be used as asked (exists, not empty, not writable)."""

    exit_code = 2


class DataError(LlmtelError):
    """Input data is missing, damaged or does not match what llmtel wrote."""


class DatabaseError(LlmtelError):
    """The database could not be reached or refused the work."""


class CheckFailed(LlmtelError):
    """One or more verification checks failed."""
