"""A checked filter evaluated on a whole table at once (a pandas DataFrame with tshark's
column names), by the rules of :mod:`headerkit.tables.filter.records`.

Number and flag columns are compared as columns; address and text columns through their
distinct values (a capture has few); list columns (option kinds, SACK edges) row by row.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from headerkit.tables.filter import checked as c
from headerkit.tables.filter.fields import EITHER, PROTOCOLS, SET_OR_UNSET, Kind
from headerkit.tables.filter.records import evaluate

_VECTOR: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def mask(node: c.Checked, frame: Any) -> Any:
    """Which rows pass, as a boolean Series aligned with ``frame``."""
    import pandas as pd

    return pd.Series(_mask(node, frame), index=frame.index, dtype=bool)


def _mask(node: c.Checked, frame: Any) -> Any:
    rows = len(frame)
    if isinstance(node, c.Both):
        return _mask(node.left, frame) & _mask(node.right, frame)
    if isinstance(node, c.Either):
        return _mask(node.left, frame) | _mask(node.right, frame)
    if isinstance(node, c.Not):
        return ~_mask(node.inner, frame)
    fields = [node.field] if isinstance(node, c.Present) else [node.left]
    if isinstance(node, c.Compare | c.Contains) and isinstance(node.right, c.Field):
        fields.append(node.right)
    if isinstance(node, c.Present) and node.field.name in PROTOCOLS:
        column = PROTOCOLS[node.field.name]
        return _notna(frame[column]) if column in frame else np.zeros(rows, bool)
    if any(_is_list(frame, f) for f in fields) or len(fields) > 1:
        return _row_by_row(node, frame, fields)
    columns = _columns(frame, fields[0])
    if not columns:
        return np.zeros(rows, bool)
    if isinstance(node, c.Present):
        tests = [
            _notna(col) & (_values(col) != 0 if node.field.mask is not None else True)
            for col in columns
        ]
        return np.logical_or.reduce(tests)
    field = fields[0]
    if isinstance(node, c.Compare) and node.op == "!=":  # every occurrence differs
        equal = c.Compare(node.left, "==", node.right)
        present = np.logical_or.reduce([_notna(col) for col in columns])
        differ = [~_column(col, field, equal) for col in columns]
        return present & np.logical_and.reduce(differ)
    return np.logical_or.reduce([_column(col, field, node) for col in columns])


def _column(col: Any, field: c.Field, node: c.Checked) -> Any:
    """The rows of one column that pass ``node`` (absent values never do)."""
    present = _notna(col)
    if field.kind in (Kind.ADDRESS, Kind.TEXT, Kind.BYTES):
        return present & _by_distinct_values(col, field, node)
    values = _values(col)
    if isinstance(node, c.Compare):
        assert isinstance(node.right, c.Const)
        with np.errstate(invalid="ignore"):
            return present & _VECTOR[node.op](values, node.right.value)
    if isinstance(node, c.MemberOf):
        hit = np.zeros(len(values), bool)
        for member in node.members:
            if isinstance(member, c.Span):
                hit |= (values >= member.low) & (values <= member.high)
            else:
                hit |= values == member.value
        return present & hit
    return present & _by_distinct_values(col, field, node)


def _by_distinct_values(col: Any, field: c.Field, node: c.Checked) -> Any:
    """Evaluate each distinct value once, then look the rows up."""
    one = _single(node, field, str(col.name))
    outcome = {value: evaluate(one, {col.name: _plain(value)}) for value in col.dropna().unique()}
    return col.map(outcome).astype("boolean").fillna(False).to_numpy(dtype=bool)


def _single(node: c.Checked, field: c.Field, column: str) -> c.Checked:
    """``node`` on one column (ip.addr as ip.src, then as ip.dst)."""
    plain = c.Field(column, field.kind)  # a mask is already applied to the column
    if isinstance(node, c.Compare):
        return c.Compare(plain, node.op, node.right)
    if isinstance(node, c.MemberOf):
        return c.MemberOf(plain, node.members)
    if isinstance(node, c.Contains):
        return c.Contains(plain, node.right)
    if isinstance(node, c.Matches):
        return c.Matches(plain, node.pattern)
    return node


def _row_by_row(node: c.Checked, frame: Any, fields: list[c.Field]) -> Any:
    names = [n for f in fields for n in EITHER.get(f.name, (f.name,)) if n in frame]
    if not names:
        return np.zeros(len(frame), bool)
    records = frame[names].to_dict("records")
    return np.fromiter(
        (evaluate(node, {k: _plain(v) for k, v in r.items()}) for r in records),
        bool,
        len(records),
    )


def _columns(frame: Any, field: c.Field) -> list[Any]:
    found = []
    for name in EITHER.get(field.name, (field.name,)):
        if name not in frame:
            continue
        col = frame[name]
        if field.kind is Kind.BOOLEAN and name not in SET_OR_UNSET:
            col = col.where(col.fillna(False).astype(bool))  # present only when true
        if field.mask is not None:
            col = col & field.mask
        found.append(col)
    return found


def _is_list(frame: Any, field: c.Field) -> bool:
    for name in EITHER.get(field.name, (field.name,)):
        if name in frame and frame[name].dtype == object:
            first = frame[name].dropna()
            if len(first) and not isinstance(first.iloc[0], str | bytes):
                return True
    return False


def _notna(col: Any) -> Any:
    return col.notna().to_numpy(dtype=bool)


def _values(col: Any) -> Any:
    if str(col.dtype) in ("boolean", "bool"):
        return col.fillna(False).to_numpy(dtype=bool)
    return col.astype("float64").fillna(np.nan).to_numpy(dtype="float64")


def _plain(value: Any) -> Any:
    """A table cell as the record evaluator takes it (lists for arrays, None for NA)."""
    import pandas as pd

    if isinstance(value, np.ndarray):
        return [v.item() if isinstance(v, np.generic) else v for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
