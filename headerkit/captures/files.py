"""A capture file opened by path (and closed here) or given open (and left open)."""

from __future__ import annotations

import os
from types import TracebackType
from typing import BinaryIO, Literal, Self

Source = str | os.PathLike[str] | BinaryIO


class OwnedFile:
    """Holds ``self._file``; closes it on :meth:`close` only if it was opened here."""

    def __init__(self, source: Source, mode: Literal["rb", "wb"]) -> None:
        if isinstance(source, str | os.PathLike):
            self._file: BinaryIO = open(source, mode)  # noqa: SIM115 - closed by close()
            self._owned = True
        else:
            self._file, self._owned = source, False

    def close(self) -> None:
        """Close the file if it was opened here, else flush what was written to it."""
        if self._owned:
            self._file.close()
        elif self._file.writable():
            self._file.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
