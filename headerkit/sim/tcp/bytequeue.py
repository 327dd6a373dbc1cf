"""The socket buffers' bytes: a FIFO appended at its tail and consumed at its head.

A ``bytearray`` consumed at its head (``del buf[:n]``) makes CPython copy all the live bytes
to a fresh allocation the next time it grows, or shrinks below half: a send buffer kept full
at 4 MB would copy 4 MB for every half megabyte that passes through it.  Here the consumed
head is only counted, and cut off (one copy of what is left) once it is larger than what is
left, so each byte is copied out at most once more.
"""

from __future__ import annotations


class ByteQueue:
    __slots__ = ("_data", "_head")

    def __init__(self) -> None:
        self._data = bytearray()
        self._head = 0  # bytes of ``_data`` already consumed

    def __len__(self) -> int:
        return len(self._data) - self._head

    def append(self, data: bytes | bytearray | memoryview) -> None:
        self._data += data

    def peek(self, offset: int, n: int) -> bytes:
        """The ``n`` bytes from ``offset`` past the head (fewer at the tail)."""
        start = self._head + offset
        with memoryview(self._data) as view:
            return bytes(view[start : start + n])

    def drop(self, n: int) -> None:
        """Consume ``n`` bytes at the head."""
        self._head += n
        if self._head > len(self._data) - self._head:
            self._data = self._data[self._head :]
            self._head = 0

    def pop(self, n: int) -> bytes:
        """Consume and return up to ``n`` bytes at the head."""
        data = self.peek(0, n)
        self.drop(len(data))
        return data
