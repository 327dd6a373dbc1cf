"""A capture file opened by path (and closed here) or given open (and left open), read
through its decompressor or written through a compressor where it is compressed."""

from __future__ import annotations

import os
from types import TracebackType
from typing import BinaryIO, Literal, Self

from headerkit.captures.compression import Compression, Decompressing, codec_for, decompressed

Source = str | os.PathLike[str] | BinaryIO


class OwnedFile:
    """Holds ``self._file``; closes it on :meth:`close` only if it was opened here.

    Read, a compressed file (gzip, zstd, lz4, xz, bz2: by its magic bytes) is decompressed
    as it is read; written, it is compressed with ``compress`` or the codec its name's
    extension names (``.gz``, ``.zst``, ``.lz4``, ``.xz``, ``.bz2``).
    """

    def __init__(
        self, source: Source, mode: Literal["rb", "wb"], compress: Compression | None = None
    ) -> None:
        path = source if isinstance(source, str | os.PathLike) else None
        if path is not None:
            self._raw: BinaryIO = open(path, mode)  # noqa: SIM115 - closed by close()
            self._owned = True
        else:
            self._raw, self._owned = source, False  # type: ignore[assignment]
        self.compression: Compression | None = None
        self._decompressing: Decompressing | None = None
        if mode == "rb":
            self._file, self._decompressing = decompressed(self._raw)
            if self._decompressing is not None:
                self.compression = self._decompressing.codec.name
        else:
            codec = codec_for(compress, path)
            self._file = self._raw if codec is None else codec.writer(self._raw)
            self.compression = None if codec is None else codec.name

    @property
    def file(self) -> BinaryIO:
        """The stream to read or write: the file, or its (de)compressor."""
        return self._file

    @property
    def decompression_damage(self) -> str | None:
        """Where and why the compressed data ended early, if it did."""
        return None if self._decompressing is None else self._decompressing.damage

    def close(self) -> None:
        """Close the file if it was opened here, else flush what was written to it; a
        compressor is finished (writing its stream's end) either way."""
        if self._file is not self._raw:
            self._file.close()
        if self._owned:
            self._raw.close()
        elif self._raw.writable():
            self._raw.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
