"""Fast readers derived from construct schemas.

A header's fixed part is written once, as a construct ``Struct`` of byte-aligned integers,
fixed-size byte strings and ``BitStruct`` groups.  :class:`FixedLayout` reads that schema and
generates one ``struct.Struct`` plus shifts and masks for the bit fields, so the per-packet
hot path runs at ``struct.unpack_from`` speed while the schema stays the single description.
Tests prove ``FixedLayout.unpack`` equal to ``schema.parse`` on random bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

import construct as cs

_NO_DEFAULT = object()

# struct codes for unsigned big-endian integers of a whole number of bytes
_UINT_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


class BuildContext:
    """What a header's build-time defaults read, as construct would hand it to them: the
    header's ``options``, the build parameters (``_params``: ``payload_length``) and, as
    ``_``, itself (how the children of a ``BitStruct`` reach their header's fields).  Plain
    attributes: a construct ``Container`` costs more than the packing it serves."""

    __slots__ = ("_", "_params", "options")

    def __init__(self, options: bytes | None, payload_length: int) -> None:
        self.options = options
        self._params = {"payload_length": payload_length}
        self._ = self


class FixedLayout:
    """The fixed part of a header, flattened: every leaf field with its bit position.

    The fixed part is the schema's leading run of fixed-size fields; it ends at the first
    field whose size depends on the data (options, payload).

    ``names`` lists the leaf fields in wire order (the children of a ``BitStruct`` are
    lifted to the top level), ``ends`` the byte offset just past each field, ``bits`` each
    field's first bit and width, ``size`` the total length, and ``unpack(buf, offset)``
    returns the values as a tuple in that order.
    """

    def __init__(self, schema: cs.Struct) -> None:
        self.schema = schema
        self.names: list[str] = []
        self.ends: list[int] = []
        self.offsets: dict[str, int] = {}
        self.groups: dict[str, list[str]] = {}  # a BitStruct's or nested Struct's leaves
        self.bits: list[tuple[str, int, int]] = []  # (field, first bit, width in bits)
        self.defaults: dict[str, Any] = {}  # a leaf's build-time default (value or function)
        self.widths: dict[str, int] = {}  # bit-field leaves: their width
        self.fields: list[str] = []
        self._codes: list[str] = []  # struct codes, one per slot
        self._orders: set[str] = set()
        self._exprs: list[str] = []  # per leaf, from the unpacked slots ``v``
        self._packs: list[str] = []  # per slot, from the leaf values ``a0``, ``a1``, ...
        self._offset = 0
        self._walk(schema.subcons, self.fields)
        if len(self._orders) > 1:
            raise TypeError(f"a fixed layout needs one byte order, got {sorted(self._orders)}")
        fmt = (self._orders.pop() if self._orders else ">") + "".join(self._codes)
        exprs, packs, offset = self._exprs, self._packs, self._offset
        self.size = offset
        self.struct = struct.Struct(fmt)
        assert self.struct.size == self.size, (fmt, self.size)
        self.unpack: Callable[[bytes | bytearray | memoryview, int], tuple[Any, ...]] = _compile(
            self.struct, exprs
        )
        plan = [
            (n, self.defaults.get(n, _NO_DEFAULT), 1 << self.widths[n] if n in self.widths else 0)
            for n in self.names
        ]
        self._pack: Callable[[Mapping[str, Any], Any], bytes | None] = _compile_pack(
            self.struct, packs, plan
        )

    def _walk(self, subcons: list[cs.Construct], fields: list[str]) -> bool:
        """Lay out the leading fixed-size fields; False once a variable one ends the part.

        Integers and fixed byte strings are leaves; a ``BitStruct``'s bit fields are leaves
        sharing one slot; a nested ``Struct`` is flattened, and one sized from outside
        (``FixedSized``) gives its leading fixed fields, then ends the part."""
        for sub in subcons:
            inner = _unwrap(sub.subcon)
            slot = len(self._codes)
            fixed_bytes = isinstance(inner, cs.Bytes) and isinstance(inner.length, int)
            if isinstance(inner, cs.FormatField) or fixed_bytes:
                size = inner.sizeof()
                if isinstance(inner, cs.FormatField):
                    if inner.fmtstr[0] in "<>":
                        self._orders.add(inner.fmtstr[0])
                    self._codes.append(inner.fmtstr.lstrip("<>=!"))
                else:
                    self._codes.append(f"{size}s")
                self._exprs.append(f"v[{slot}]")
                self._packs.append(f"a{len(self.names)}")
                self._default(sub.name, sub.subcon)
                offset = self._offset
                self._leaf(sub.name, offset, offset + size, offset * 8, size * 8)
                self._offset += size
            elif isinstance(inner, cs.Transformed) and isinstance(inner.subcon, cs.Struct):
                self._bit_group(sub.name, inner, slot)
            elif isinstance(inner, cs.Struct):
                children: list[str] = []
                done = self._walk(inner.subcons, children)
                self.groups[sub.name] = children
                if not done:
                    return False
            elif isinstance(inner, cs.FixedSized) and isinstance(inner.subcon, cs.Struct):
                children = []
                self._walk(inner.subcon.subcons, children)
                self.groups[sub.name] = children
                return False  # what follows a body sized from outside is not at a fixed offset
            else:
                return False  # the fixed part ends at the first variable-length field
            fields.append(sub.name)
        return True

    def _bit_group(self, name: str, inner: cs.Transformed, slot: int) -> None:
        """A ``BitStruct``: one unsigned integer slot, its bit fields lifted out as leaves."""
        nbytes = inner.sizeof()
        self._codes.append(_UINT_CODES[nbytes])
        shift = nbytes * 8
        children: list[str] = []
        parts: list[str] = []
        offset = self._offset
        for bit in inner.subcon.subcons:
            width = _bit_width(_unwrap(bit.subcon))
            shift -= width
            mask = (1 << width) - 1
            expr = f"(v[{slot}] >> {shift}) & {mask:#x}" if shift else f"v[{slot}] & {mask:#x}"
            if isinstance(_unwrap(bit.subcon), type(cs.Flag)):
                expr = f"bool({expr})"
            self._exprs.append(expr)
            leaf = len(self.names)
            parts.append(f"(a{leaf} << {shift})" if shift else f"a{leaf}")
            self._default(bit.name, bit.subcon)
            self.widths[bit.name] = width
            start = offset * 8 + nbytes * 8 - shift - width
            self._leaf(bit.name, offset, offset + nbytes, start, width)
            children.append(bit.name)
        self.groups[name] = children
        self._packs.append("(" + " | ".join(parts) + ")")
        self._offset += nbytes

    def _default(self, name: str, con: cs.Construct) -> None:
        if isinstance(con, cs.Default):
            self.defaults[name] = con.value

    def pack(self, values: Mapping[str, Any], context: Any) -> bytes | None:
        """The fixed part built from leaf ``values``, the inverse of :meth:`unpack`.

        A value left None takes the schema's default, evaluated in ``context`` as construct
        would; None is returned where construct must decide (no default, a value out of
        range), so the caller builds through the schema and gets its error.
        """
        return self._pack(values, context)

    def _leaf(self, name: str, start: int, end: int, bit: int, width: int) -> None:
        self.names.append(name)
        self.ends.append(end)
        self.offsets[name] = start
        self.bits.append((name, bit, width))

    def unpack_partial(self, buf: bytes | memoryview, offset: int) -> dict[str, Any]:
        """The fields that fit wholly in ``buf[offset:]`` (for a truncated header)."""
        avail = len(buf) - offset
        padded = bytes(buf[offset:]) + bytes(self.size - avail)
        values = self.unpack(padded, 0)
        return {
            n: v for n, v, end in zip(self.names, values, self.ends, strict=True) if end <= avail
        }

    def nest(self, flat: Mapping[str, Any]) -> dict[str, Any]:
        """Turn flat field values into the nested dict that ``schema.build`` expects."""
        out = dict(flat)
        for group, children in self.groups.items():
            out[group] = {c: out.pop(c, None) for c in children}
        return out

    def flatten(self, parsed: Mapping[str, Any]) -> dict[str, Any]:
        """Turn ``schema.parse`` output into flat leaf values keyed as ``names``."""
        flat: dict[str, Any] = {}
        for name in self.fields:
            value = parsed[name]
            if name in self.groups:
                flat.update({c: value[c] for c in self.groups[name]})
            else:
                flat[name] = value
        return flat


def _unwrap(con: cs.Construct) -> cs.Construct:
    """Look through build-time defaults and constants to the field's wire format."""
    while isinstance(con, cs.Default | cs.Rebuild | cs.Const):
        con = con.subcon
    return con


def _bit_width(con: cs.Construct) -> int:
    if isinstance(con, cs.BitsInteger):
        if con.signed or con.swapped:
            raise TypeError("only unsigned big-endian bit fields have a fixed layout")
        return int(con.length)
    if isinstance(con, type(cs.Flag)):
        return 1
    raise TypeError(f"{type(con).__name__} is not a bit field")


def _compile_pack(
    st: struct.Struct, packs: list[str], plan: list[tuple[str, Any, int]]
) -> Callable[[Mapping[str, Any], Any], bytes | None]:
    """The packer of :meth:`FixedLayout.pack` as one generated function: each leaf taken
    from the values or its default, range-checked where it is a bit field."""
    lines = ["def pack(values, context, _p=_p, _error=_error):", "    get = values.get"]
    namespace: dict[str, Any] = {"_p": st.pack, "_error": struct.error}
    for i, (name, default, limit) in enumerate(plan):
        lines.append(f"    a{i} = get({name!r})")
        if default is _NO_DEFAULT:
            lines.append(f"    if a{i} is None: return None")
        else:
            namespace[f"_d{i}"] = default
            value = f"_d{i}(context)" if callable(default) else f"_d{i}"
            lines.append(f"    if a{i} is None: a{i} = {value}")
        if limit:
            lines.append(f"    if not 0 <= a{i} < {limit}: return None")
    slots = ", ".join(packs)
    lines += [
        "    try:",
        f"        return _p({slots})",
        "    except _error:",
        "        return None",
    ]
    exec("\n".join(lines) + "\n", namespace)
    fn: Callable[[Mapping[str, Any], Any], bytes | None] = namespace["pack"]
    return fn


def _compile(
    st: struct.Struct, exprs: list[str]
) -> Callable[[bytes | bytearray | memoryview, int], tuple[Any, ...]]:
    source = (
        "def unpack(buf, offset, _u=_u):\n"
        "    v = _u(buf, offset)\n"
        f"    return ({', '.join(exprs)},)\n"
    )
    namespace: dict[str, Any] = {"_u": st.unpack_from}
    exec(source, namespace)
    fn: Callable[[bytes | bytearray | memoryview, int], tuple[Any, ...]] = namespace["unpack"]
    return fn
