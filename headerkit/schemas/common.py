"""Construct pieces shared by the header schemas."""

from __future__ import annotations

from typing import Any

import construct as cs


class SizedBytes(cs.Construct):  # type: ignore[misc]
    """Bytes whose length a header field gives on parse; on build, whatever bytes are given.

    Building writes the caller's bytes unchanged, so a header can be crafted whose length
    field disagrees with its contents on purpose.
    """

    def __init__(self, length: Any) -> None:
        super().__init__()
        self.length = length

    def _parse(self, stream: Any, context: Any, path: str) -> bytes:
        length = max(0, cs.evaluate(self.length, context))
        data: bytes = cs.stream_read(stream, length, path)
        return data

    def _build(self, obj: bytes, stream: Any, context: Any, path: str) -> bytes:
        data = bytes(obj or b"")
        cs.stream_write(stream, data, len(data), path)
        return data

    def _sizeof(self, context: Any, path: str) -> int:
        raise cs.SizeofError(path=path)
