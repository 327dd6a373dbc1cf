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
from typing import Any, BinaryIO, Literal

Compression = Literal["gzip", "zstd", "lz4", "xz", "bz2"]


@dataclass(frozen=True, slots=True)
class Codec:
    name: Compression
    magic: bytes
    extensions: tuple[str, ...]
    reader: Callable[[BinaryIO], BinaryIO]
    writer: Callable[[BinaryIO], BinaryIO]


def _zstd_reader(raw: BinaryIO) -> BinaryIO:
    import zstandard

    stream: BinaryIO = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return stream


def _zstd_writer(raw: BinaryIO) -> BinaryIO:
    import zstandard

    stream: BinaryIO = zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
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


def decompressed(file: BinaryIO) -> tuple[BinaryIO, Compression | None]:
    """``file`` read through its decompressor when its first bytes name one, and which."""
    head = file.read(_LONGEST_MAGIC)
    stream = replay(head, file)
    for codec in CODECS:
        if head.startswith(codec.magic):
            return codec.reader(stream), codec.name
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
