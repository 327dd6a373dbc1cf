"""Many or huge captures as a dask DataFrame: a partition per file, and per byte range of a
large classic pcap, so the same analysis runs on a dask cluster when one machine is not
enough.  Each partition is :func:`headerkit.read_table` of its part of a file."""

from __future__ import annotations

import glob
import io
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from headerkit.schemas.layout import FixedLayout
from headerkit.schemas.pcap import FILE_HEADER_SIZE, RECORD, byte_order_of
from headerkit.tables.fields import schema
from headerkit.tables.table import read_table, to_pandas

PARTITION_BYTES = 64 << 20


@dataclass(frozen=True, slots=True)
class Part:
    """Records ``[start, stop)`` (byte offsets) of ``path``; its first frame is ``first``."""

    path: str
    start: int
    stop: int
    first: int


def partitions(path: str, size: int = PARTITION_BYTES) -> list[Part]:
    """Split a classic pcap at record boundaries into parts of about ``size`` bytes.

    The boundaries come from a scan of the record headers alone (seeking over the data);
    any other file, or one no larger than ``size``, is one part.
    """
    total = os.path.getsize(path)
    with open(path, "rb") as f:
        order = byte_order_of(f.read(4))
        if order is None or total <= size:
            return [Part(path, 0, total, 1)]
        prefix = FixedLayout(RECORD[order])
        incl = struct.Struct(prefix.struct.format[0] + "I")
        at_incl = prefix.offsets["incl_len"]
        parts: list[Part] = []
        start, first, number, offset = FILE_HEADER_SIZE, 1, 0, FILE_HEADER_SIZE
        f.seek(offset)
        while True:
            head = f.read(prefix.size)
            if len(head) < prefix.size:
                break
            offset += prefix.size + incl.unpack_from(head, at_incl)[0]
            number += 1
            if offset > total:
                break  # a record cut by the end of the file: the last part reports it
            f.seek(offset)
            if offset - start >= size:
                parts.append(Part(path, start, offset, first))
                start, first = offset, number + 1
        parts.append(Part(path, start, total, first))
        return parts


def read_part(part: Part, fields: Sequence[str] | None = None) -> Any:
    """One partition as a pandas DataFrame, frame numbers counted from the file's start."""
    with open(part.path, "rb") as f:
        if part.start == 0:
            data = f.read(part.stop)
        else:
            header = f.read(FILE_HEADER_SIZE)
            f.seek(part.start)
            data = header + f.read(part.stop - part.start)
    table = read_table(io.BytesIO(data), fields, engine="arrow")
    frame = to_pandas(table)
    if "frame.number" in frame.columns:
        frame["frame.number"] += part.first - 1
    return frame


def read_pcaps(
    paths: str | Iterable[str],
    fields: Sequence[str] | None = None,
    partition_bytes: int = PARTITION_BYTES,
) -> Any:
    """A dask DataFrame over every capture matched by ``paths`` (a glob or a list)."""
    import dask
    import dask.dataframe as dd

    files = sorted(glob.glob(paths)) if isinstance(paths, str) else list(paths)
    if not files:
        raise FileNotFoundError(f"no captures match {paths!r}")
    parts = [p for path in files for p in partitions(path, partition_bytes)]
    meta = to_pandas(schema(fields).empty_table())
    # keep headerkit's dtypes (list columns stay lists, not strings)
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(  # type: ignore[no-untyped-call]
            read_part, parts, fields=fields, meta=meta, enforce_metadata=False
        )
