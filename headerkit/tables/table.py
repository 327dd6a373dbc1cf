"""A capture as a table: one row per packet, one column per header field, tshark's names.

Rows are built batch by batch into Arrow record batches, so a large file never holds more
than one batch of decoded packets; the table itself is what is returned (``engine="arrow"``
gives the ``pyarrow.Table``, the default a pandas DataFrame with nullable integer dtypes,
booleans, categoricals for flag strings and link types, and list columns for option kinds
and SACK edges).

A capture file is read by the columnar decoder (:mod:`headerkit.tables.columnar`), which decodes a
chunk of records at a time with numpy; ``fast=False`` builds the same table from the
per-packet decoder and :func:`row`, the definition the columnar decoder is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pyarrow as pa

from headerkit.captures.decoded import decode_capture
from headerkit.packet.decode import Packet
from headerkit.tables.fields import (
    ALIASES,
    BATCH_ROWS,
    FLOW_COLUMNS,
    row,
    schema,
)


def record_batches(
    packets: Iterable[Packet], fields: Sequence[str] | None = None, rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """Arrow record batches of at most ``rows`` packets each."""
    return _batches((row(pkt) for pkt in packets), schema(fields), rows)


def _batches(
    values: Iterable[dict[str, Any]], sch: pa.Schema, rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    names = sch.names
    columns: dict[str, list[Any]] = {n: [] for n in names}
    count = 0
    for value in values:
        for name in names:
            columns[name].append(value.get(name))
        count += 1
        if count == rows:
            yield _batch(columns, sch)
            columns = {n: [] for n in names}
            count = 0
    if count or not names:
        yield _batch(columns, sch)


def _batch(columns: dict[str, list[Any]], sch: pa.Schema) -> pa.RecordBatch:
    arrays = [pa.array(columns[f.name], type=f.type) for f in sch]
    return pa.RecordBatch.from_arrays(arrays, schema=sch)


def capture_batches(
    source: str | Path | BinaryIO, fields: Sequence[str] | None = None, *, fast: bool = True
) -> Iterator[pa.RecordBatch]:
    """The table of a capture file as record batches of at most :data:`BATCH_ROWS` packets,
    for streaming (to Parquet, say) in bounded memory.

    ``fast=False`` decodes packet by packet: ``record_batches(decode_capture(source))``.
    """
    if not fast:
        return record_batches(decode_capture(source), fields)
    from headerkit.tables.columnar import batches

    return batches(source, fields)


def arrow_table(
    source: str | Path | BinaryIO, fields: Sequence[str] | None = None, *, fast: bool = True
) -> pa.Table:
    """The capture as a ``pyarrow.Table`` (``fast``: see :func:`capture_batches`)."""
    batches = list(capture_batches(source, fields, fast=fast))
    return pa.Table.from_batches(batches, schema=schema(fields))


def _flow_rows(source: str | Path | BinaryIO) -> Iterator[dict[str, Any]]:
    """Rows with the :data:`FLOW_COLUMNS` too, from one pass: flow tracking needs every
    decoded packet, so these rows come from the per-packet decoder.  Analysis flags are
    False on TCP segments without them, null on other packets."""
    from headerkit.flows import annotate

    flags = [name for name, kind in FLOW_COLUMNS.items() if kind == pa.bool_()]
    for pkt, extra in annotate(decode_capture(source)):
        values = row(pkt) | extra
        if "tcp.stream" in extra:
            values |= {name: extra.get(name, False) for name in flags}
        yield values


def read_table(
    source: str | Path | BinaryIO,
    fields: Sequence[str] | None = None,
    *,
    flows: bool = False,
    engine: Literal["pandas", "arrow"] = "pandas",
    short_names: bool = False,
    fast: bool = True,
) -> Any:
    """One row per packet, columns named as tshark names them (see :data:`COLUMNS`).

    ``fields`` picks columns; ``flows=True`` adds :data:`FLOW_COLUMNS` (stream index,
    relative numbers, calculated window, scale factor, ``tcp.analysis.*``), decoding
    packet by packet as flow tracking must;
    ``short_names`` renames columns by :data:`ALIASES`; ``engine="arrow"`` returns a
    ``pyarrow.Table`` instead of a pandas DataFrame; ``fast=False`` decodes packet by packet
    (the same table, slower).
    """
    if flows:
        sch = schema(fields)
        for name, kind in FLOW_COLUMNS.items():
            sch = sch.append(pa.field(name, kind))
        table = pa.Table.from_batches(list(_batches(_flow_rows(source), sch)), schema=sch)
    else:
        table = arrow_table(source, fields, fast=fast)
    if short_names:
        table = table.rename_columns([ALIASES.get(n, n) for n in table.column_names])
    if engine == "arrow":
        return table
    return to_pandas(table)


def to_pandas(table: pa.Table) -> Any:
    """A DataFrame with nullable integer and boolean dtypes and categorical strings."""
    import pandas as pd

    mapping = {
        pa.uint8(): pd.UInt8Dtype(),
        pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(),
        pa.uint64(): pd.UInt64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
        pa.string(): pd.StringDtype(),
    }
    frame = table.to_pandas(types_mapper=mapping.get)
    for field in table.schema:
        if pa.types.is_dictionary(field.type):
            # categories of one dtype whatever the values (none at all included), so that
            # tables of different captures, batches or partitions concatenate
            column = frame[field.name]
            categories = pd.Index(column.cat.categories, dtype=str)
            frame[field.name] = column.cat.set_categories(categories)
    return frame
