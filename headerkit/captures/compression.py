"""Compressed capture files: recognised by their magic bytes and read as a stream; written
compressed on request or by the file name's extension. gzip, zstd and lz4 (the ones
Wireshark reads), xz and bz2, through the standard library and the zstandard and lz4
packages; memory stays bounded whatever the file's size."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal, cast

Compression = Literal["gzip", "zstd", "lz4", "xz", "bz2"]


@dataclass(frozen=True, slots=True)
class Codec:
    name: Compression
    magic: bytes
    extensions: tuple[str, ...]
    reader: Callable[[BinaryIO], BinaryIO]
    writer: Callable[[BinaryIO], BinaryIO]


class _ZstdFrames(io.RawIOBase):
    """zstd frames one after another, decompressed; a frame cut off raises EOFError.

    The input is fed :data:`_ZSTD_FEED` bytes at a time, which bounds what one call can
    produce (a run-length block of 4 bytes makes at most 128 KiB)."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._frame: Any = None
        self._unused = b""
        self._out = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        import zstandard

        while not self._out:
            data, self._unused = self._unused or self._raw.read(_ZSTD_FEED), b""
            if not data:
                if self._frame is not None:
                    raise EOFError("the last zstd frame is cut off")
                return 0
            if self._frame is None:
                self._frame = zstandard.ZstdDecompressor().decompressobj()
            self._out = memoryview(self._frame.decompress(data))
            if self._frame.eof:
                self._unused, self._frame = self._frame.unused_data, None
        size = min(len(buffer), len(self._out))
        memoryview(buffer).cast("B")[:size] = self._out[:size]
        self._out = self._out[size:]
        return size


_ZSTD_FEED = 256


def _zstd_reader(raw: BinaryIO) -> BinaryIO:
    return io.BufferedReader(_ZstdFrames(raw))


def _zstd_writer(raw: BinaryIO) -> BinaryIO:
    import zstandard

    compressor = zstandard.ZstdCompressor(write_checksum=True)
    stream: BinaryIO = compressor.stream_writer(raw, closefd=False)
    return stream


def _lz4(raw: BinaryIO, mode: str) -> BinaryIO:
    import lz4.frame

    stream: BinaryIO = lz4.frame.LZ4FrameFile(raw, mode)
    return stream


def _typed(stream: Any) -> BinaryIO:
    return stream  # type: ignore[no-any-return]


CODECS: tuple[Codec, ...] = (
    Codec(
        "gzip",
        b"\x1f\x8b",
        (".gz",),
        lambda raw: _typed(gzip.GzipFile(fileobj=raw, mode="rb")),
        lambda raw: _typed(gzip.GzipFile(fileobj=raw, mode="wb")),
    ),
    Codec("zstd", b"\x28\xb5\x2f\xfd", (".zst", ".zstd"), _zstd_reader, _zstd_writer),
    Codec(
        "lz4",
        b"\x04\x22\x4d\x18",
        (".lz4",),
        lambda raw: _lz4(raw, "rb"),
        lambda raw: _lz4(raw, "wb"),
    ),
    Codec(
        "xz",
        b"\xfd7zXZ\x00",
        (".xz",),
        lambda raw: _typed(lzma.LZMAFile(raw, "rb")),  # noqa: SIM115 - the caller closes it
        lambda raw: _typed(lzma.LZMAFile(raw, "wb")),  # noqa: SIM115 - the caller closes it
    ),
    Codec(
        "bz2",
        b"BZh",
        (".bz2",),
        lambda raw: _typed(bz2.BZ2File(raw, "rb")),
        lambda raw: _typed(bz2.BZ2File(raw, "wb")),
    ),
)
NAMES: tuple[str, ...] = tuple(codec.name for codec in CODECS)
_LONGEST_MAGIC = max(len(codec.magic) for codec in CODECS)


class _Replay(io.RawIOBase):
    """A stream of ``head`` followed by the rest of ``file`` (what was read to look at it)."""

    def __init__(self, head: bytes, file: BinaryIO) -> None:
        super().__init__()
        self._head = head
        self._file = file

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._head[: len(view)] if self._head else self._file.read(len(view))
        self._head = self._head[len(data) :]
        view[: len(data)] = data
        return len(data)


def replay(head: bytes, file: BinaryIO) -> BinaryIO:
    """``file`` as if ``head`` (bytes already read from it) had not been read."""
    return io.BufferedReader(_Replay(head, file))


class Decompressing(io.RawIOBase):
    """A decompressor's output that ends, rather than raises, where the compressed data is
    damaged or cut off; ``damage`` then says where (in decompressed bytes) and why."""

    def __init__(self, codec: Codec, file: BinaryIO) -> None:
        super().__init__()
        self.codec = codec
        self.damage: str | None = None
        # every reader is a buffered stream, which has read1
        self._stream = cast(io.BufferedIOBase, codec.reader(file))
        self._delivered = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.damage is not None:
            return 0
        try:
            data = self._stream.read1(len(buffer))  # read() would lose what came before damage
        except Exception as error:  # each library has its own error types for bad data
            why = str(error) or type(error).__name__
            self.damage = (
                f"the {self.codec.name} data is damaged or cut off after "
                f"{self._delivered} decompressed bytes ({why})"
            )
            return 0
        memoryview(buffer).cast("B")[: len(data)] = data
        self._delivered += len(data)
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


def decompressed(file: BinaryIO) -> tuple[BinaryIO, Decompressing | None]:
    """``file`` read through its decompressor when its first bytes name one, and that."""
    head = file.read(_LONGEST_MAGIC)
    stream = replay(head, file)
    for codec in CODECS:
        if head.startswith(codec.magic):
            decompressing = Decompressing(codec, stream)
            return io.BufferedReader(decompressing), decompressing
    return stream, None


def codec_for(name: str | None, path: str | os.PathLike[str] | None) -> Codec | None:
    """The codec ``name`` asks for, or else the one the file name's extension names."""
    if name is not None:
        found = next((c for c in CODECS if c.name == name), None)
        if found is None:
            raise ValueError(f"compression must be one of {', '.join(NAMES)}, not {name!r}")
        return found
    if path is None:
        return None
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    return next((c for c in CODECS if suffix in c.extensions), None)
