"""The one error type of the expression language."""

from __future__ import annotations


class ExprError(Exception):
    """A bad expression: what is wrong, where (0-based character offset), and how to fix it.

    ``expected`` says what would have been accepted at ``offset`` (e.g. ``"number"``),
    ``hint`` suggests a fix (e.g. ``"did you mean 'title'?"``).
    """

    def __init__(
        self,
        message: str,
        offset: int = 0,
        *,
        hint: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.message = message
        self.offset = offset
        self.hint = hint
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"at {self.offset}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        if self.hint:
            text += f"; {self.hint}"
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.message, self.offset, self.hint, self.expected))


def _rebuild(message: str, offset: int, hint: str | None, expected: str | None) -> ExprError:
    return ExprError(message, offset, hint=hint, expected=expected)
