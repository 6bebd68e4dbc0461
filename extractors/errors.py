"""The one error type rule authors see.

It is a ``ValueError`` so callers that only know the standard library can still
catch it, and its message always names the file, the rule id and the field so
an editor can jump straight to the line that is wrong.
"""

from __future__ import annotations


class RuleFileError(ValueError):
    """A rule or lexicon file that cannot be compiled."""

    def __init__(self, file: str, rule_id: str | None, field: str, message: str) -> None:
        self.file = file
        self.rule_id = rule_id or "-"
        self.field = field or "-"
        self.detail = message
        super().__init__(
            f"{file}: rule {self.rule_id!r}: field {self.field!r}: {message}"
        )
