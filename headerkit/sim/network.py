"""One direction of the path between the endpoints: delay, bandwidth, loss, duplication,
reordering, random (seeded) or scripted ("drop the 3rd data segment")."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from headerkit.schemas.tcp import FIN, SYN
from headerkit.sim.clock import NS
from headerkit.sim.segment import Datagram, Packet

MATCHES = ("any", "data", "ack", "syn", "fin", "datagram")
ACTIONS = ("drop", "duplicate", "delay")


@dataclass(frozen=True)
class Rule:
    """Do ``action`` to the ``nth`` packets (1-based, in sending order) that ``match``.

    ``match``: any packet, ``data`` (a TCP segment with payload, retransmissions included),
    ``ack`` (a TCP segment without payload, SYN or FIN), ``syn``, ``fin`` or ``datagram``
    (a UDP datagram or fragment).  ``delay`` adds ``extra`` seconds (to reorder).
    """

    action: str
    match: str
    nth: tuple[int, ...]
    extra: float = 0.0

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"rule action must be one of {', '.join(ACTIONS)}: {self.action!r}")
        if self.match not in MATCHES:
            raise ValueError(f"rule match must be one of {', '.join(MATCHES)}: {self.match!r}")


@dataclass(frozen=True)
class LinkConfig:
    """A one-way path; times in seconds, bandwidth in bit/s (0: unlimited), rates in [0, 1]."""

    delay: float = 0.0
    bandwidth: float = 0.0
    mtu: int = 1500
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_delay: float = 0.005
    rules: tuple[Rule, ...] = field(default=())


def _matches(match: str, pkt: Packet) -> bool:
    if match == "any":
        return True
    if isinstance(pkt, Datagram):
        return match == "datagram"
    if match == "data":
        return bool(pkt.payload)
    if match == "syn":
        return bool(pkt.flags & SYN)
    if match == "fin":
        return bool(pkt.flags & FIN)
    return match == "ack" and not pkt.payload and not pkt.flags & (SYN | FIN)


class Link:
    """Decides when (and how many times) each packet sent into it comes out."""

    def __init__(self, config: LinkConfig, rng: random.Random) -> None:
        self.config = config
        self.rng = rng
        self.delay = int(config.delay * NS)
        self.busy_until = 0
        self.counts = [0] * len(config.rules)
        self.random = config.loss > 0 or config.duplicate > 0 or config.reorder > 0
        self.instant = not config.delay and not config.bandwidth  # delivers when sent

    def transmit(self, pkt: Packet, now: int) -> tuple[list[int], str]:
        """Arrival times of ``pkt`` sent at ``now`` (empty if lost) and what happened to it."""
        cfg = self.config
        start = now
        if cfg.bandwidth > 0:
            start = max(now, self.busy_until) + int(pkt.wire_size * 8 * NS / cfg.bandwidth)
            self.busy_until = start
        arrival = start + self.delay
        fate = ""
        copies = 1
        dropped = False
        for i, rule in enumerate(cfg.rules):
            if _matches(rule.match, pkt):
                self.counts[i] += 1
                if self.counts[i] in rule.nth:
                    if rule.action == "drop":
                        dropped = True
                    elif rule.action == "duplicate":
                        copies, fate = 2, "duplicated"
                    else:
                        arrival += int(rule.extra * NS)
                        fate = "delayed"
        if dropped:
            return [], "dropped"
        if self.random:
            rng = self.rng
            if rng.random() < cfg.loss:
                return [], "lost"
            if rng.random() < cfg.reorder:
                arrival += int(cfg.reorder_delay * NS)
                fate = "delayed"
            if rng.random() < cfg.duplicate:
                copies, fate = 2, "duplicated"
        return [arrival] * copies, fate
