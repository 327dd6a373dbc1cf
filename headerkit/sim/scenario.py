"""Scenarios: what two applications do, over which path, as Python objects or TOML.

A TOML scenario (the built-in ones live in ``headerkit/sim/scenarios/*.toml``)::

    name = "hello-world"
    description = "..."
    protocol = "tcp"          # or "udp"
    profile = "rfc"           # or "linux": the stack's defaults (headerkit.sim.tcp.profiles)
    seed = 1                  # random loss/duplication/reordering and ISNs
    until = 120.0             # stop the clock here at the latest
    capture = "a"             # where --pcap listens: next to endpoint "a" or "b"

    [path]                    # both directions; [path.a_to_b] / [path.b_to_a] override
    delay = 0.010             # one-way, seconds
    bandwidth = 0             # bit/s, 0 = unlimited
    mtu = 1500
    loss = 0.0                # also duplicate, reorder (rates) and reorder_delay (seconds)
    rules = [{ action = "drop", match = "data", nth = 3 }]

    [a]                       # endpoint "a" connects; "b" listens (connect = true for both:
    nodelay = false           #   simultaneous open); any TcpConfig / UdpConfig field
    calls = [
      { call = "send", data = "Hello" },
      { call = "sleep", seconds = 1.0 },
      { call = "send", data = "World", at = 1.0 },
      { call = "close" },
    ]

    [variants.slow]           # deep-merged over the base: "hello-world:slow"
    description = "..."
    b.calls = [ ... ]

Calls: ``send`` (``data`` text or ``size`` bytes of a letter pattern; ``nonblocking``:
MSG_DONTWAIT, may take fewer bytes than asked), ``sendall`` (Python's loop: non-blocking
send() calls, each showing what it took, waiting for room between them), ``recv``
(``size``; ``waitall``; ``loop`` = until EOF), ``echo`` (an echo server's loop: recv(size),
wait ``seconds``, send back what it returned, until EOF), ``sendto``, ``recvfrom``
(``loop``), ``sleep`` (``seconds``), ``close``, ``shutdown``.  Any call may say ``at``
(absolute time; it starts then or when the previous call returns, whichever is later) and
``repeat`` with ``interval`` (seconds between the repetitions).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from types import NoneType
from typing import Any, get_args, get_type_hints

from headerkit.errors import ScenarioError
from headerkit.sim.network import LinkConfig, Rule
from headerkit.sim.tcp import TcpConfig
from headerkit.sim.tcp.profiles import PROFILES, Profile, endpoint_settings
from headerkit.sim.udp import UdpConfig

OPS = ("send", "sendall", "recv", "echo", "sendto", "recvfrom", "sleep", "close", "shutdown")
_LETTERS = b"abcdefghijklmnopqrstuvwxyz"


@dataclass(slots=True, frozen=True)
class Call:
    """One application call; see the module docstring for the fields each ``op`` uses."""

    op: str
    at: float | None = None
    data: bytes = b""
    size: int = 0
    loop: bool = False
    waitall: bool = False
    nonblocking: bool = False
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ScenarioError(f"unknown call {self.op!r} (calls: {', '.join(OPS)})")


@dataclass(slots=True, frozen=True)
class EndpointSpec:
    """An application and its socket: ``connect`` opens actively, else it listens."""

    calls: tuple[Call, ...] = ()
    connect: bool = False
    connect_at: float = 0.0
    tcp: TcpConfig = field(default_factory=TcpConfig)
    udp: UdpConfig = field(default_factory=UdpConfig)


@dataclass(slots=True, frozen=True)
class Scenario:
    """Everything a simulation needs; ``a`` is at 10.0.0.1, ``b`` at 10.0.0.2."""

    name: str = "custom"
    description: str = ""
    protocol: str = "tcp"
    profile: str = "rfc"
    seed: int = 0
    until: float = 120.0
    capture: str = "a"
    a: EndpointSpec = field(default_factory=lambda: EndpointSpec(connect=True))
    b: EndpointSpec = field(default_factory=EndpointSpec)
    a_to_b: LinkConfig = field(default_factory=LinkConfig)
    b_to_a: LinkConfig = field(default_factory=LinkConfig)

    def __post_init__(self) -> None:
        if self.protocol not in ("tcp", "udp"):
            raise ScenarioError(f"protocol must be tcp or udp: {self.protocol!r}")
        if self.capture not in ("a", "b"):
            raise ScenarioError(f"capture must be a or b: {self.capture!r}")
        if self.profile not in PROFILES:
            known = ", ".join(PROFILES)
            raise ScenarioError(f"profile must be one of {known}: {self.profile!r}")


# The range each setting may take in a scenario file: a hostile or mistyped file is refused
# before anything of that size is made. Sizes in bytes, times in seconds, rates in [0, 1].
_GIB = 1 << 30
LIMITS: dict[str, tuple[float, float]] = {
    "rcvbuf": (1, _GIB),
    "rcvbuf_max": (1, _GIB),
    "window_share": (0.01, 1),
    "quickack": (0, 1000),
    "min_tso_segs": (0, 0xFFFF),
    "wakeup": (0, 60),
    "keepalive": (0.001, 86_400),
    "keepalive_interval": (0.001, 86_400),
    "keepalive_probes": (1, 1000),
    "sndbuf": (1, _GIB),
    "mss": (1, 65495),
    "ack_every": (1, 1000),
    "initial_cwnd": (1, 10_000),
    "delack_timeout": (0, 60),
    "rto_initial": (0.001, 3600),
    "rto_min": (0.001, 3600),
    "rto_max": (0.001, 86_400),
    "persist_max": (0.001, 86_400),
    "max_retries": (0, 1000),
    "msl": (0, 3600),
    "iss": (0, (1 << 32) - 1),
    "wscale": (0, 14),
    "delay": (0, 3600),
    "bandwidth": (0, 1e12),
    "mtu": (68, 65536),
    "loss": (0, 1),
    "duplicate": (0, 1),
    "reorder": (0, 1),
    "reorder_delay": (0, 3600),
    "extra": (0, 3600),
    "until": (0, 1e6),
    "seed": (0, 2**63),
    "size": (0, _GIB),
    "seconds": (0, 1e6),
    "at": (0, 1e6),
    "connect_at": (0, 1e6),
    "repeat": (1, 100_000),
    "interval": (0, 1e6),
}


def _checked(values: dict[str, Any], types: dict[str, Any], where: str) -> dict[str, Any]:
    """``values`` with each one of the type its field declares and within :data:`LIMITS`."""
    for key, value in values.items():
        expected = types.get(key)
        if expected is None:
            continue
        place = f"{where}.{key}" if where else key
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if expected is bool and not isinstance(value, bool):
            raise ScenarioError(f"{place} must be true or false, not {value!r}")
        if expected in (int, float) and not (numeric and math.isfinite(value)):
            raise ScenarioError(f"{place} must be a finite number, not {value!r}")
        if expected is int and numeric and value != int(value):
            raise ScenarioError(f"{place} must be a whole number, not {value!r}")
        if key in LIMITS and numeric:
            low, high = LIMITS[key]
            if not low <= value <= high:
                raise ScenarioError(
                    f"{place} must be {_number(low)} to {_number(high)}, not {value!r}"
                )
    return values


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{where} must be a table, not {value!r}"[:200])
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ScenarioError(f"{where} must be a list, not {value!r}"[:200])
    return value


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:g}"


def _types(cls: type) -> dict[str, Any]:
    """The types of a dataclass's fields, the optional ones by what they hold when set
    (read as hints: a compiled class holds them as types, an interpreted one as text)."""
    found = {}
    hints = get_type_hints(cls)
    for f in fields(cls):
        held = [t for t in get_args(hints[f.name]) if t is not NoneType] or [hints[f.name]]
        found[f.name] = held[0] if len(held) == 1 and held[0] in (int, float, bool) else None
    return found


def pattern(n: int, start: int = 0) -> bytes:
    """``n`` bytes of the alphabet, from stream offset ``start`` on (easy to check by eye)."""
    s = start % 26
    return (_LETTERS * (n // 26 + 2))[s : s + n]


# ------------------------------------------------------------------------- built-ins


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with headerkit."""
    files = resources.files("headerkit.sim").joinpath("scenarios").iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".toml"))


def _builtin_text(name: str) -> str:
    if name not in builtin_names():
        known = ", ".join(builtin_names())
        raise ScenarioError(f"no built-in scenario {name!r} (built-in: {known})")
    return resources.files("headerkit.sim").joinpath("scenarios", f"{name}.toml").read_text()


def variants(name_or_path: str) -> dict[str, str]:
    """The variants of a scenario, by name, with their descriptions."""
    table = _parse(_text_of(name_or_path), name_or_path)
    found = _table(table.get("variants", {}), "variants")
    return {
        key: str(_table(value, f"variants.{key}").get("description", ""))
        for key, value in found.items()
    }


def load_scenario(spec: str, variant: str | None = None, profile: str | None = None) -> Scenario:
    """A built-in scenario by name or a TOML file by path; ``NAME:VARIANT`` picks a variant;
    ``profile`` replaces the scenario's own."""
    if variant is None and ":" in spec and not Path(spec).exists():
        spec, variant = spec.rsplit(":", 1)
    return scenario_from_toml(_text_of(spec), variant, Path(spec).stem, profile)


def _text_of(spec: str) -> str:
    path = Path(spec)
    if path.suffix == ".toml" or path.exists():
        try:
            return path.read_text()
        except OSError as exc:
            raise ScenarioError(f"cannot read {spec}: {exc.strerror}") from None
    return _builtin_text(spec)


MAX_TEXT = 1 << 20  # characters in a scenario file
MAX_KEY_PARTS = 32  # parts of one dotted key (tomllib's work grows as their square)
_KEY_PART = r"""(?:[\w-]++|"(?:[^"\\\n]|\\.)*+"|'[^'\n]*+')"""
_DEEP_KEY = re.compile(rf"""(?<![\w"'-]){_KEY_PART}(?:\s*+\.\s*+{_KEY_PART}){{{MAX_KEY_PARTS}}}""")


def _parse(text: str, origin: str) -> dict[str, Any]:
    """The TOML table in ``text``, refusing what would make the parser's work explode."""
    if len(text) > MAX_TEXT:
        raise ScenarioError(f"{origin}: {len(text)} characters, over the limit of {MAX_TEXT}")
    if deep := _DEEP_KEY.search(text):
        line = text.count("\n", 0, deep.start()) + 1
        raise ScenarioError(
            f"{origin}: line {line}: a dotted key of more than {MAX_KEY_PARTS} parts"
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{origin}: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{origin}: arrays or tables nested too deep to read") from None


# ------------------------------------------------------------------------- TOML


def scenario_from_toml(
    text: str, variant: str | None = None, default_name: str = "", profile: str | None = None
) -> Scenario:
    """Build a scenario from TOML text, with one of its variants merged in (and ``profile``
    in place of its own)."""
    table = _parse(text, default_name or "scenario")
    found = _table(table.pop("variants", {}), "variants")
    name = str(table.get("name", default_name or "custom"))
    if variant is not None:
        if variant not in found:
            known = ", ".join(found) or "none"
            raise ScenarioError(f"{name} has no variant {variant!r} (variants: {known})")
        table = _merge(table, _table(found[variant], f"variants.{variant}"))
        table["name"] = f"{name}:{variant}"
    if profile is not None:
        table["profile"] = profile
    return scenario_from_dict(table)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def scenario_from_dict(table: dict[str, Any]) -> Scenario:
    """Build a scenario from the parsed TOML table (see the module docstring)."""
    table = dict(table)
    path = _table(table.pop("path", {}), "path")
    a = _table(table.pop("a", {}), "a")
    b = _table(table.pop("b", {}), "b")
    for direction in ("a_to_b", "b_to_a"):
        _table(path.get(direction, {}), f"path.{direction}")
    _check_keys(table, {f.name for f in fields(Scenario)} - {"a", "b", "a_to_b", "b_to_a"}, "")
    _checked(table, _types(Scenario), "")
    name = table.get("profile", "rfc")
    if name not in PROFILES:
        raise ScenarioError(f"profile must be one of {', '.join(PROFILES)}: {name!r}"[:200])
    profile = PROFILES[name]
    base = {**profile.path, **{k: v for k, v in path.items() if k not in ("a_to_b", "b_to_a")}}
    a_to_b = _link({**base, **path.get("a_to_b", {})}, "path.a_to_b")
    b_to_a = _link({**base, **path.get("b_to_a", {})}, "path.b_to_a")
    try:
        return Scenario(
            **table,
            a=_endpoint(a, "a", True, a_to_b.mtu, profile),
            b=_endpoint(b, "b", False, b_to_a.mtu, profile),
            a_to_b=a_to_b,
            b_to_a=b_to_a,
        )
    except TypeError as exc:
        raise ScenarioError(str(exc)) from None


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        place = f" in [{where}]" if where else ""
        raise ScenarioError(
            f"unknown key {unknown[0]!r}{place} (known: {', '.join(sorted(allowed))})"
        )


def _link(table: dict[str, Any], where: str) -> LinkConfig:
    table = dict(table)
    rules = tuple(
        _rule(_table(r, f"{where}.rules"), where)
        for r in _list(table.pop("rules", []), f"{where}.rules")
    )
    _check_keys(table, {f.name for f in fields(LinkConfig)} - {"rules"}, where)
    _checked(table, _types(LinkConfig), where)
    return LinkConfig(**table, rules=rules)


def _rule(table: dict[str, Any], where: str) -> Rule:
    _check_keys(table, {"action", "match", "nth", "extra"}, f"{where}.rules")
    nth = table.get("nth", 1)
    counts = nth if isinstance(nth, list) else [nth]
    if not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 10**6 for n in counts):
        raise ScenarioError(f"{where}.rules.nth must be counts from 1 to 1,000,000: {nth!r}"[:200])
    _checked(table, {"extra": float}, f"{where}.rules")
    try:
        return Rule(
            action=str(table.get("action", "drop")),
            match=str(table.get("match", "any")),
            nth=tuple(counts),
            extra=float(table.get("extra", 0.0)),
        )
    except ValueError as exc:
        raise ScenarioError(f"{where}.rules: {exc}") from None


def _endpoint(
    table: dict[str, Any], side: str, connect: bool, mtu: int, profile: Profile
) -> EndpointSpec:
    table = dict(table)
    calls = _calls(_list(table.pop("calls", []), f"{side}.calls"), side)
    connect = bool(table.pop("connect", connect))
    connect_at = float(table.pop("connect_at", 0.0))
    tcp_keys = {f.name for f in fields(TcpConfig)}
    udp_keys = {f.name for f in fields(UdpConfig)}
    _check_keys(table, tcp_keys | udp_keys | {"calls", "connect", "connect_at"}, side)
    _checked(table, _types(TcpConfig) | _types(UdpConfig), side)
    settings = endpoint_settings(profile, {k: v for k, v in table.items() if k in tcp_keys})
    try:
        tcp = TcpConfig(**settings)
    except ValueError as exc:
        raise ScenarioError(f"{side}.{exc}") from None
    tcp = replace(tcp, mss=min(tcp.mss, mtu - 40))
    udp = UdpConfig(**{k: v for k, v in table.items() if k in udp_keys})
    return EndpointSpec(calls, connect, connect_at, tcp, udp)


def _calls(items: list[dict[str, Any]], side: str) -> tuple[Call, ...]:
    calls: list[Call] = []
    offset = 0  # stream offset, so that generated data continues the pattern
    for item in items:
        item = dict(_table(item, f"{side}.calls"))
        _check_keys(
            item,
            {f.name for f in fields(Call)} - {"op"} | {"call", "repeat", "interval"},
            f"{side}.calls",
        )
        _checked(item, _types(Call) | {"repeat": int, "interval": float}, f"{side}.calls")
        repeat = int(item.pop("repeat", 1))
        interval = float(item.pop("interval", 0.0))
        op = str(item.pop("call", ""))
        text = item.pop("data", None)
        for i in range(repeat):
            at = item.get("at")
            if at is not None:
                at = float(at) + i * interval
            elif i > 0 and interval:
                calls.append(Call("sleep", seconds=interval))
            if text is not None:
                data = str(text).encode()
            elif op in ("send", "sendall", "sendto"):
                data = pattern(int(item.get("size", 0)), offset)
            else:
                data = b""
            offset += len(data)
            fixed = {k: v for k, v in item.items() if k != "at"}
            calls.append(Call(op, at, data, **fixed))
    return tuple(calls)
