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
    COLUMNS,
    FLOW_COLUMNS,
    row,
    schema,
)
from headerkit.tables.filter import Filter, compile_filter, packet_record


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
    decoded packet, so these rows come from the per-packet decoder."""
    from headerkit.flows import annotate

    for pkt, extra in annotate(decode_capture(source)):
        yield _flow_values(pkt, extra)


_FLAGS = [name for name, kind in FLOW_COLUMNS.items() if kind == pa.bool_()]


def _flow_values(pkt: Packet, extra: dict[str, Any]) -> dict[str, Any]:
    """A row and its flow fields; analysis flags are False on TCP segments without them,
    null on other packets."""
    values = row(pkt) | extra
    if "tcp.stream" in extra:
        values |= {name: extra.get(name, False) for name in _FLAGS}
    return values


def read_table(
    source: str | Path | BinaryIO,
    fields: Sequence[str] | None = None,
    *,
    flows: bool = False,
    engine: Literal["pandas", "arrow"] = "pandas",
    short_names: bool = False,
    fast: bool = True,
    filter: str | None = None,
) -> Any:
    """One row per packet, columns named as tshark names them (see :data:`COLUMNS`).

    ``fields`` picks columns; ``flows=True`` adds :data:`FLOW_COLUMNS` (stream index,
    relative numbers, calculated window, scale factor, ``tcp.analysis.*``), decoding
    packet by packet as flow tracking must;
    ``short_names`` renames columns by :data:`ALIASES`; ``engine="arrow"`` returns a
    ``pyarrow.Table`` instead of a pandas DataFrame; ``fast=False`` decodes packet by packet
    (the same table, slower).  ``filter`` keeps the rows a tshark display filter selects
    (flow fields are computed over every packet first, as tshark does); it runs on the
    table's columns at once, or packet by packet when it reads payload bytes.
    """
    chosen = compile_filter(filter) if filter is not None else None
    wanted = list(fields) if fields is not None else None
    if chosen is not None and wanted is not None:
        fields = [*wanted, *sorted((chosen.fields & set(COLUMNS)) - set(wanted))]
    if chosen is not None and chosen.needs_payload:
        table = _filtered_by_packet(source, fields, flows or chosen.needs_flows, chosen)
    elif flows or (chosen is not None and chosen.needs_flows):
        table = _flow_table(source, fields)
    else:
        table = arrow_table(source, fields, fast=fast)
    if chosen is not None and not chosen.needs_payload:
        table = table.filter(pa.array(chosen.mask(to_pandas(table)).to_numpy()))
    if chosen is not None:
        keep = {*(wanted or COLUMNS), *(FLOW_COLUMNS if flows else ())}
        table = table.select([n for n in table.column_names if n in keep])
    if short_names:
        table = table.rename_columns([ALIASES.get(n, n) for n in table.column_names])
    if engine == "arrow":
        return table
    return to_pandas(table)


def _flow_table(source: str | Path | BinaryIO, fields: Sequence[str] | None) -> pa.Table:
    sch = _with_flow_columns(schema(fields))
    return pa.Table.from_batches(list(_batches(_flow_rows(source), sch)), schema=sch)


def _with_flow_columns(sch: pa.Schema) -> pa.Schema:
    for name, kind in FLOW_COLUMNS.items():
        sch = sch.append(pa.field(name, kind))
    return sch


def _filtered_by_packet(
    source: str | Path | BinaryIO, fields: Sequence[str] | None, flows: bool, chosen: Filter
) -> pa.Table:
    """The rows of the packets ``chosen`` selects, its payload tests run packet by packet."""
    from headerkit.flows import annotate

    packets = decode_capture(source)
    pairs = annotate(packets) if flows else ((pkt, {}) for pkt in packets)
    sch = _with_flow_columns(schema(fields)) if flows else schema(fields)
    rows = (
        _flow_values(pkt, extra) if flows else row(pkt)
        for pkt, extra in pairs
        if chosen.matches(packet_record(pkt, extra))
    )
    return pa.Table.from_batches(list(_batches(rows, sch)), schema=sch)


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
