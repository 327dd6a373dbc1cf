"""The stacks the model can behave as: one row per profile, the settings it changes.

``rfc`` is the textbook TCP of the RFCs, as the lessons draw it.  ``linux`` is what Linux
does by default on loopback (checked against the kernel in ``tests/test_sim_kernel.py`` and
with packetdrill in ``tests/packetdrill/``): CUBIC; SACK and timestamps offered in every
SYN; the window scale chosen for the largest buffer the socket may grow to (tcp_rmem[2]);
half the receive buffer advertised (as tcp_adv_win_scale = 1), the SYN's window rounded
down to whole segments; SO_RCVBUF and SO_SNDBUF doubled; zero-window probes without data at
SND.UNA - 1; the first segments and data a reader takes acknowledged at once (quick ACKs); a
blocked call returning some 20 µs after its socket is ready (the thread must be scheduled);
Minshall's Nagle (a small segment waits only for an earlier small one); PSH where each
send() call's data ends (none after MSG_MORE); segmentation offload, whose packets of more
than one segment carry PSH too; cwnd grown only while the sender uses it; limited transmit;
slow start after idle; a shrunk window taken as advertised; an RTO of SRTT + max(4 RTTVAR,
200 ms); receive-buffer autotuning up to tcp_rmem[2]; the loopback MTU of 65536, so an MSS
of 65495.  RTO 1 s initial and 200 ms minimum and TIME-WAIT 60 s are both profiles' defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LINUX_RMEM = (4096, 131072, 6291456)  # net.ipv4.tcp_rmem: min, default, max


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    endpoint: Mapping[str, Any] = field(default_factory=dict)  # TcpConfig settings
    path: Mapping[str, Any] = field(default_factory=dict)  # LinkConfig settings
    doubles_buffers: bool = False  # SO_RCVBUF/SO_SNDBUF n give 2n-byte buffers, fixed


PROFILES = {
    p.name: p
    for p in (
        Profile("rfc", "the RFCs' TCP: NewReno, no SACK or timestamps, 1-byte probes"),
        Profile(
            "linux",
            "Linux's defaults on loopback: CUBIC, SACK, timestamps, quick ACKs",
            endpoint={
                "congestion": "cubic",
                "sack": True,
                "timestamps": True,
                "zero_window_probe": "stale",
                "mss": 65495,
                "rcvbuf": LINUX_RMEM[1],
                "rcvbuf_max": LINUX_RMEM[2],
                "window_share": 0.5,
                "window_in_segments": True,
                "quickack": 16,
                "min_tso_segs": 2,
                "cwnd_validation": True,
                "push_per_write": True,
                "minshall": True,
                "limited_transmit": True,
                "half_window_mss": True,
                "shrink_window": True,
                "slow_start_after_idle": True,
                "rto_min_variance": True,
                "ack_on_read": True,
                "wakeup": 0.00002,
            },
            path={"mtu": 65536},
            doubles_buffers=True,
        ),
    )
}
"""Every profile, by name."""


def endpoint_settings(profile: Profile, given: Mapping[str, Any]) -> dict[str, Any]:
    """An endpoint's settings: the profile's, then the scenario's, with SO_RCVBUF as the
    profile's stack takes it."""
    settings = {**profile.endpoint, **given}
    for name in ("rcvbuf", "sndbuf"):
        if name in given:
            settings[name] = socket_buffer(profile, given[name])
    if "rcvbuf" in given and "rcvbuf_max" not in given:
        settings.pop("rcvbuf_max", None)  # a buffer the application set does not grow
    return settings


def socket_buffer(profile: Profile, value: int) -> int:
    """The buffer setsockopt(SO_RCVBUF or SO_SNDBUF, value) gives."""
    return 2 * value if profile.doubles_buffers else value
