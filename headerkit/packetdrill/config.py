"""What a script's shell lines and ``--options`` ask of the stack, read without running them.

packetdrill scripts configure Linux with shell commands in backticks (``sysctl -q
net.ipv4.tcp_sack=0``, ``../common/defaults.sh``). None is run here: each known command
sets the model's configuration, an irrelevant one (offload settings, restoring sysctls) is
passed over, and any other makes the script unsupported, naming the command.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from headerkit.errors import ScriptUnsupported
from headerkit.packetdrill.script import Script, Shell

DEFAULT_TOLERANCE_US = 4000  # packetdrill's --tolerance_usecs default


@dataclass(slots=True)
class Settings:
    """The stack configuration a script asks for (Linux's defaults, as packetdrill sets them)."""

    timestamps: bool = True
    sack: bool = True
    window_scaling: bool = True
    congestion_control: str = "cubic"
    rmem: tuple[int, int, int] = (4096, 540_000, 15 * 1024 * 1024)
    wmem: tuple[int, int, int] = (4096, 256 * 1024, 4_194_304)
    tso: bool = True  # packetdrill's tun device offloads segmentation unless told not to
    min_tso_segs: int = 2
    slow_start_after_idle: bool = False  # packetdrill's defaults.sh switches it off
    tolerance_us: int = DEFAULT_TOLERANCE_US
    tolerance_percent: float = 0.0
    unsupported: list[tuple[int, str]] = field(default_factory=list)


def _flag(name: str) -> Callable[[Settings, str], None]:
    def apply(settings: Settings, value: str) -> None:
        setattr(settings, name, value.strip() not in ("0", ""))

    return apply


def _triple(name: str) -> Callable[[Settings, str], None]:
    def apply(settings: Settings, value: str) -> None:
        low, default, high = (int(v) for v in value.split())
        setattr(settings, name, (low, default, high))

    return apply


CONGESTION = {"cubic": "cubic", "reno": "newreno"}
"""Linux's congestion control names -> the model's controllers."""


def _congestion(settings: Settings, value: str) -> None:
    name = value.strip()
    if name not in CONGESTION:
        raise ValueError(f"the congestion control {name}")
    settings.congestion_control = name


def _count(name: str) -> Callable[[Settings, str], None]:
    def apply(settings: Settings, value: str) -> None:
        if not value.strip().isdigit() or not 0 < int(value) <= 0xFFFF:
            raise ValueError(f"{name} {value.strip()!r}: a count from 1 to 65535")
        setattr(settings, name, int(value))

    return apply


def _passed_over(settings: Settings, value: str) -> None:
    """A setting that does not change what the model sends."""


def _model_value(expected: str, feature: str) -> Callable[[Settings, str], None]:
    """A setting the model supports only at one value (the behaviour it has)."""

    def apply(settings: Settings, value: str) -> None:
        if value.strip() != expected:
            raise ValueError(f"{feature} ({value.strip()})")

    return apply


SYSCTLS: dict[str, Callable[[Settings, str], None]] = {
    "tcp_timestamps": _flag("timestamps"),
    "tcp_sack": _flag("sack"),
    "tcp_window_scaling": _flag("window_scaling"),
    "tcp_congestion_control": _congestion,
    "tcp_rmem": _triple("rmem"),
    "tcp_wmem": _triple("wmem"),
    "tcp_ecn": _model_value("0", "ECN"),
    "tcp_early_retrans": _model_value("0", "tail loss probe and early retransmit"),
    "tcp_recovery": _model_value("0", "RACK loss detection"),
    "tcp_frto": _model_value("0", "F-RTO"),
    "tcp_fastopen": _passed_over,  # matters only to scripts that use TFO, which need options
    "tcp_fastopen_key": _passed_over,
    "tcp_syncookies": _passed_over,
    "tcp_dsack": _passed_over,
    "tcp_fack": _passed_over,
    "tcp_reordering": _model_value("3", "a duplicate-ACK threshold other than 3"),
    "tcp_syn_retries": _passed_over,
    "tcp_synack_retries": _passed_over,
    "tcp_slow_start_after_idle": _flag("slow_start_after_idle"),
    "tcp_tso_win_divisor": _passed_over,
    "tcp_min_tso_segs": _count("min_tso_segs"),
    "tcp_pacing_ss_ratio": _passed_over,
    "tcp_pacing_ca_ratio": _passed_over,
    "tcp_notsent_lowat": _passed_over,
    "tcp_ecn_option": _passed_over,
    "tcp_mtu_probing": _model_value("0", "path MTU probing"),
    "tcp_no_metrics_save": _passed_over,
    "tcp_moderate_rcvbuf": _passed_over,
}
# restoring sysctls, flushing route metrics: nothing the model sends changes
_PASSED_OVER = re.compile(r"sysctl_restore|^ip tcp_metrics flush")
_OFFLOAD_OFF = re.compile(r"^ethtool -K \S+ (.*)$")
_ASSIGNMENT = re.compile(r"(?:/proc/sys/)?net[./]ipv4[./](\w+)=(.*)")


def read_settings(script: Script) -> Settings:
    """The settings that ``script``'s options and shell lines ask for.

    Shell lines the model cannot honour are collected in ``unsupported`` (line, what), so a
    runner can refuse the script before it starts, naming them.
    """
    settings = Settings()
    for name, value in script.options.items():
        if name == "tolerance_usecs" and value.isdigit():
            settings.tolerance_us = int(value)
        elif name == "tolerance_percent":
            settings.tolerance_percent = float(value)
    for shell in script.shell:
        apply_shell(settings, shell)
    return settings


def apply_shell(settings: Settings, shell: Shell) -> None:
    """Take one shell line into ``settings`` (or note it as unsupported)."""
    command = shell.command.strip()
    if command.endswith("defaults.sh") or _PASSED_OVER.search(command):
        return
    if offload := _OFFLOAD_OFF.match(command):  # "tso off gso off": segments as on the wire
        words = offload.group(1).split()
        settings.tso = dict(zip(words[::2], words[1::2], strict=False)).get("tso", "on") != "off"
        return
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    if words and (words[0] == "sysctl" or words[0].endswith("set_sysctls.py")):
        for word in words[1:]:
            if word.startswith("-"):
                continue
            match = _ASSIGNMENT.fullmatch(word)
            handler = SYSCTLS.get(match.group(1)) if match else None
            if match is None or handler is None:
                settings.unsupported.append((shell.line, f"the setting {word}"))
                continue
            try:
                handler(settings, match.group(2))
            except ValueError as err:
                settings.unsupported.append((shell.line, str(err)))
        return
    settings.unsupported.append((shell.line, f"the shell command `{command}`"))


def refuse_unsupported(settings: Settings, path: str) -> None:
    """Raise :class:`ScriptUnsupported` for the first shell line the model cannot honour."""
    if settings.unsupported:
        line, what = settings.unsupported[0]
        raise ScriptUnsupported(path, line, what)
