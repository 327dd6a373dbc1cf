"""Live capture with scapy's sniffer, on Linux, giving each packet once.

A packet socket on the loopback interface sees every packet twice: once as it is sent
(packet type ``PACKET_OUTGOING`` in the socket address) and once as it comes back in
(``PACKET_HOST``).  Analysers would take the second copy for a retransmission, so on an
interface whose hardware type is loopback (``ARPHRD_LOOPBACK``) the outgoing copy is dropped,
the rule libpcap follows.  On other interfaces outgoing packets are the host's own and are
kept.  Capturing needs root or the CAP_NET_RAW capability.  Timestamps are kept to the
microsecond, all a float from scapy holds.

Linux never completes TCP/UDP checksums on loopback (checksum offload): the field holds the
pseudo-header sum only, so checksum checks call such packets bad.

    with LiveCapture("lo", "tcp port 5000") as cap:
        ...  # make traffic
    records = cap.records
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import scapy.layers.inet6  # noqa: F401 - registers Ether, IP and IPv6 for dissection
from scapy.arch.linux import L2ListenSocket, get_last_packet_timestamp
from scapy.data import ARPHRD_LOOPBACK, MTU
from scapy.error import Scapy_Exception
from scapy.sendrecv import AsyncSniffer

from headerkit.captures import Record
from headerkit.errors import CaptureError, CapturePermissionError
from headerkit.schemas.linktypes import LinkType

__all__ = ["CaptureError", "CapturePermissionError", "LiveCapture", "capture"]


def linktype_of(pkt: Any) -> int:
    """The link type of a scapy packet, from its outermost layer (raw IP for IP and IPv6)."""
    from scapy.config import conf
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6

    if isinstance(pkt, IP | IPv6):
        return LinkType.RAW
    linktype: int | None = conf.l2types.layer2num.get(type(pkt))
    if linktype is None:
        raise ValueError(f"no link type for a scapy {type(pkt).__name__} packet")
    return linktype


BUFFER_SIZE = 32 << 20  # bytes the kernel holds for the capture while Python catches up
_SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # past net.core.rmem_max (root)
_SOL_PACKET, _PACKET_STATISTICS = 263, 6  # <linux/if_packet.h>
_TPACKET_STATS = struct.Struct("=II")  # struct tpacket_stats: tp_packets, tp_drops (native)


class _OnceSocket(L2ListenSocket):
    """scapy's listening socket, dropping the outgoing copy of each packet on loopback, with
    a buffer large enough for a burst of 64 KiB loopback packets."""

    def __init__(
        self, *args: Any, keep_duplicates: bool = False, buffer_size: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        try:
            self.ins.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, buffer_size)
        except OSError:  # without CAP_NET_ADMIN: as much as rmem_max allows
            self.ins.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_size)
        self.drop_outgoing = not keep_duplicates and self.ins.getsockname()[3] == ARPHRD_LOOPBACK
        self.dropped = 0
        self.kernel_drops = 0

    def read_drops(self) -> None:
        """Add the packets the kernel dropped for want of buffer since the last read (the
        counters reset on each read, as tcpdump's "dropped by kernel")."""
        stats = self.ins.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, _TPACKET_STATS.size)
        self.kernel_drops += _TPACKET_STATS.unpack(stats)[1]

    def recv_raw(self, x: int = MTU) -> tuple[Any, bytes | None, float | None]:
        data, sa_ll, ts = self._recv_raw(self.ins, x)
        if self.drop_outgoing and sa_ll[2] == socket.PACKET_OUTGOING:
            self.dropped += 1
            return None, None, None
        return self.LL, data, get_last_packet_timestamp(self.ins) if ts is None else ts


class LiveCapture:
    """Capture on ``iface`` with a BPF ``filter`` until stopped or ``count`` packets.

    ``records`` holds what was captured (headerkit :class:`Record` objects, numbered from 1);
    ``on_packet`` is called with each as it arrives.  ``duplicates`` counts the loopback
    copies dropped; ``keep_duplicates`` keeps them.  ``kernel_drops`` counts the packets lost
    because the capture's ``buffer_size`` bytes filled before Python read them.
    """

    def __init__(
        self,
        iface: str = "lo",
        filter: str | None = None,
        *,
        count: int = 0,
        keep_duplicates: bool = False,
        promisc: bool = False,
        on_packet: Callable[[Record], None] | None = None,
        buffer_size: int = BUFFER_SIZE,
    ) -> None:
        self.iface = iface
        self.filter = filter
        self.count = count
        self.keep_duplicates = keep_duplicates
        self.promisc = promisc
        self.on_packet = on_packet
        self.buffer_size = buffer_size
        self.kernel_drops = 0  # packets the kernel dropped (buffer full), known once stopped
        self.records: list[Record] = []
        self._socket: Any = None
        self._sniffer: Any = None

    @property
    def duplicates(self) -> int:
        """Loopback copies dropped so far."""
        return self._socket.dropped if self._socket is not None else 0

    def start(self) -> Self:
        """Open the socket (filter attached) and start sniffing; traffic from now on counts."""
        try:
            self._socket = _OnceSocket(
                iface=self.iface,
                filter=self.filter,
                promisc=self.promisc,
                keep_duplicates=self.keep_duplicates,
                buffer_size=self.buffer_size,
            )
        except PermissionError as err:
            raise CapturePermissionError(
                f"capturing on {self.iface} needs root or the CAP_NET_RAW capability "
                f"({err.strerror}): run as root, e.g. with sudo, or give the interpreter "
                "the capability: sudo setcap cap_net_raw+ep $(readlink -f $(which python3))"
            ) from err
        except (OSError, ValueError, Scapy_Exception) as err:
            raise CaptureError(f"cannot capture on {self.iface}: {err}") from err
        started = threading.Event()
        self._sniffer = AsyncSniffer(
            opened_socket=self._socket,
            store=False,
            prn=self._take,
            count=self.count,
            started_callback=started.set,
        )
        self._sniffer.start()
        started.wait()
        return self

    def wait(self, timeout: float | None = None) -> None:
        """Block until ``count`` packets were captured, or ``timeout`` seconds passed."""
        self._sniffer.join(timeout)

    def stop(self, settle: float = 0.05) -> list[Record]:
        """Stop sniffing; read what is still queued until ``settle`` seconds pass with none."""
        if self._sniffer is None:
            return self.records
        if self._sniffer.running:
            self._sniffer.stop()
        self._sniffer.join()
        sock, self._sniffer = self._socket, None
        try:
            while not self._full() and sock.select([sock], settle):
                pkt = sock.recv()
                if pkt is not None:
                    self._take(pkt)
            sock.read_drops()
            self.kernel_drops = sock.kernel_drops
        finally:
            sock.close()
        return self.records

    def _full(self) -> bool:
        return 0 < self.count <= len(self.records)

    def _take(self, pkt: Any) -> None:
        if self._full():
            return
        data = bytes(pkt.original)
        record = Record(
            len(self.records) + 1,
            round(float(pkt.time) * 1e6) * 1000,  # a float holds microseconds, not ns
            linktype_of(pkt),
            data,
            len(data),
        )
        self.records.append(record)
        if self.on_packet is not None:
            self.on_packet(record)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def capture(
    iface: str = "lo",
    filter: str | None = None,
    *,
    count: int = 0,
    timeout: float | None = None,
    keep_duplicates: bool = False,
) -> list[Record]:
    """Capture until ``count`` packets or ``timeout`` seconds (at least one must be given)."""
    if not count and timeout is None:
        raise ValueError("give a count or a timeout, or use LiveCapture to stop it yourself")
    with LiveCapture(iface, filter, count=count, keep_duplicates=keep_duplicates) as cap:
        cap.wait(timeout)
    return cap.records
