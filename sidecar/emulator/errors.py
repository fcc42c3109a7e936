"""The error every emulator layer raises; the HTTP shell turns it into an error envelope."""

from __future__ import annotations


class ApiError(Exception):
    """An error answer: HTTP ``status`` equals ``error.code``; ``name`` is the UPPER_SNAKE name.

    ``detail`` is shown only by the control API; the real API sends no message field.
    """

    def __init__(self, status: int, name: str, detail: str | None = None) -> None:
        super().__init__(f"{status} {name}" + (f": {detail}" if detail else ""))
        self.status = status
        self.name = name
        self.detail = detail
