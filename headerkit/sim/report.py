"""A simulation's text forms: a packetdrill-like timeline and a summary."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterator, Sequence

from headerkit.schemas.tcp import ACK, FLAG_LETTERS, FLAG_NAMES, PSH, SYN
from headerkit.sim.engine import Result
from headerkit.sim.segment import Datagram, Packet, Segment
from headerkit.sim.tcp import UNKNOWN
from headerkit.sim.tcp.profiles import PROFILES
from headerkit.sim.trace import (
    LABEL_TEXT,
    SIDE_NAMES,
    Entry,
    Kind,
    describe_packet,
    label_names,
    packets_sent,
)
from headerkit.words import counted


def _bases(result: Result, side: int, absolute: bool) -> tuple[int, int]:
    return (0, 0) if absolute else (result.iss[side], result.iss[1 - side])


def format_entry(
    entry: Entry, result: Result, verbose: bool = False, absolute: bool = False
) -> str | None:
    """One timeline line, or None if the entry is shown only in verbose mode; sequence
    numbers relative to each side's ISN unless ``absolute``."""
    who = SIDE_NAMES[entry.side]
    stamp = f"{entry.time / 1e9:10.6f} {who}"
    kind = entry.kind
    if kind is Kind.SEND:
        assert entry.packet is not None
        text = "> " + describe_packet(entry.packet, _bases(result, entry.side, absolute))
        text += _labels(entry.packet)
        if entry.text:
            text += f" ({entry.text})"
        return f"{stamp} {text}{_send_view(entry)}"
    if kind is Kind.ARRIVE:
        if not verbose:
            return None
        assert entry.packet is not None
        text = "< " + describe_packet(entry.packet, _bases(result, 1 - entry.side, absolute))
        return f"{stamp} {text}{_arrive_view(entry, result)}"
    if kind is Kind.CALL:
        return f"{stamp} {entry.text} ..." if verbose else None
    if kind is Kind.RETURN:
        return f"{stamp} {entry.text}"
    return f"{stamp} [{kind.value}] {entry.text}"


def _labels(pkt: Packet) -> str:
    shown = label_names(pkt.labels)
    return f" [{', '.join(shown)}]" if shown else ""


def _send_view(entry: Entry) -> str:
    pkt = entry.packet
    if not isinstance(pkt, Segment) or len(entry.view) < 5:
        return ""
    flight, cwnd, rwnd, sndq, rcvq = entry.view
    if pkt.payload or pkt.flags & 0x03:
        peer = "?" if rwnd == UNKNOWN else rwnd
        return f"  ; flight {flight} cwnd {cwnd} peer_rwnd {peer} sndbuf {sndq}"
    return f"  ; rcvbuf {rcvq}"


def _arrive_view(entry: Entry, result: Result) -> str:
    if isinstance(entry.packet, Datagram):
        queued, count = entry.view[0], entry.view[1]
        return f"  ; queue {count} datagram(s), {queued} bytes"
    used, ooo, wnd, _ = entry.view
    size = (result.scenario.a, result.scenario.b)[entry.side].tcp.rcvbuf
    extra = f" out-of-order {ooo}" if ooo else ""
    return f"  ; rcvbuf {used}/{size}{extra} own_rwnd {wnd}"


def legend() -> Iterator[str]:
    """What the timeline's notation means."""
    synack = Segment(8080, 49152, 0, 1, SYN | ACK, 65535, mss=1460, wscale=2)
    hello = Segment(49152, 8080, 1, 1, PSH | ACK, 32768, b"Hello")
    yield "Each line: time in seconds, the side (a or b), then what happened:"
    yield f"  b > {describe_packet(synack, (0, 0))}    a segment b sent"
    yield f"  b < {describe_packet(hello, (0, 0))}    one b received (--trace)"
    yield "Flags (tcpdump's letters): " + ", ".join(
        f"{letter} {dict(FLAG_NAMES)[bit]}" for bit, letter in FLAG_LETTERS if bit != ACK
    )
    yield "  and a trailing '.' for ACK: 'S.' is SYN+ACK, '.' alone a pure ACK."
    yield "first:last(len): the sequence numbers the data occupies, relative to the sender's"
    yield "  initial sequence number (ISN, taken as 0; --absolute shows raw numbers):"
    yield "  '1:1461(1460)' is 1460 bytes, numbers 1 to 1460; the next byte is 1461."
    yield "  SYN and FIN each take one sequence number and carry no data."
    yield "ack N: the next byte the sender expects from its peer (relative to the peer's ISN)."
    yield "win N: the window field the segment carries: the sender's free receive buffer,"
    yield "  shifted right by its window scale once the handshake agreed one (RFC 7323)."
    yield "<...>: TCP options (mss, nop, wscale).  '...' text: the payload, when printable."
    labels = ", ".join(LABEL_TEXT.values())
    text = f"[...] after a segment: what the sender knew it was doing: {labels}."
    yield from textwrap.wrap(text, break_on_hyphens=False)
    yield "(lost), (dropped), (duplicated), (delayed): what the path did to the segment."
    yield "After ';' on a sent segment, the sender's own bookkeeping at that moment:"
    yield "  flight: bytes sent and not yet acknowledged; cwnd: the congestion window;"
    yield "  peer_rwnd: the window the PEER advertised, as this sender may use it ('?' before"
    yield "  the peer's SYN told it); sndbuf: bytes in the send buffer (unsent + in flight)."
    yield "  At most min(cwnd, peer_rwnd) bytes are in flight."
    yield "  rcvbuf on a pure ACK: bytes waiting in the sender's receive buffer."
    yield "After ';' on a received segment (--trace): rcvbuf used/size, out-of-order bytes,"
    yield "  own_rwnd: the receive window THIS side now offers (its next 'win', before scaling)."
    yield "Socket calls show their return value: send('Hello') = 5, recv(4) = 4 'Hell',"
    yield "  recv() = 0 (EOF) at the end of the stream; [state] lines are RFC 9293 transitions"
    yield "  with the event that caused them; [timer] lines are retransmission, delayed-ACK,"
    yield "  persist (zero-window probe) and TIME-WAIT timers."


def timeline(result: Result, verbose: bool = False, absolute: bool = False) -> Iterator[str]:
    """The timeline, line by line."""
    for entry in result.entries:
        line = format_entry(entry, result, verbose, absolute)
        if line is not None:
            yield line


def _boundaries(chunks: Sequence[bytes]) -> str:
    joined = b"".join(chunks)
    if chunks and len(joined) <= 120 and all(32 <= c < 127 for c in joined):
        return "|" + "|".join(c.decode() for c in chunks) + "|"
    sizes = [str(len(c)) for c in chunks]
    if len(sizes) > 20:
        sizes = [*sizes[:10], f"... ({len(sizes) - 20} more) ...", *sizes[-10:]]
    return " + ".join(sizes) if sizes else "(none)"


def summary(result: Result) -> Iterator[str]:
    """send() boundaries against recv() chunks, per direction, and what the network saw."""
    udp = result.scenario.protocol == "udp"
    send_call, recv_call = ("sendto", "recvfrom") if udp else ("send", "recv")
    for side in (0, 1):
        sent = result.streams[side].sends
        received = result.streams[1 - side].recvs
        got = [c for c in received if c]
        if not sent and not got:
            continue
        src, dst = SIDE_NAMES[side], SIDE_NAMES[1 - side]
        total_in, total_out = sum(map(len, sent)), sum(map(len, got))
        yield (
            f"{src} -> {dst}: {counted(total_in, 'byte')} in "
            f"{counted(len(sent), send_call + '() call')}; {counted(total_out, 'byte')} in "
            f"{counted(len(got), recv_call + '() result')}"
        )
        for taken, asked in result.streams[side].short_sends:
            yield (
                f"  a non-blocking {send_call}() took {taken} of {asked} bytes: the other "
                f"{counted(asked - taken, 'byte')} were never sent"
            )
        width = len(recv_call) + 18
        yield f"  {send_call + '() boundaries:':<{width}}{_boundaries(sent)}"
        yield f"  {recv_call + '() chunks:':<{width}}{_boundaries(got)}"
        if udp:
            cut = result.streams[1 - side].truncated
            if cut:
                yield f"  truncated datagrams (whole lengths): {cut}"
        elif b"".join(sent) == b"".join(got):
            yield "  the receiver read exactly the bytes sent, in order"
        elif b"".join(sent).startswith(b"".join(got)):
            yield f"  the receiver read the first {total_out} of the {total_in} bytes sent"
        else:
            yield "  the receiver did NOT read the bytes sent, in order"
    counts: Counter[str] = Counter()
    per_side = [0, 0]
    for entry in packets_sent(result.entries):
        per_side[entry.side] += 1
        assert entry.packet is not None
        counts.update(label_names(entry.packet.labels))
        if entry.text:
            counts[entry.text] += 1
    noun = "datagrams" if udp else "segments"
    yield f"{noun}: a sent {per_side[0]}, b sent {per_side[1]}"
    if counts:
        yield "  " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    for side in (0, 1):
        stream = result.streams[side]
        if stream.blocked_in:
            yield f"{SIDE_NAMES[side]} still blocked in {stream.blocked_in} at the end"
    if not udp:
        yield f"final states: a {result.states[0]}, b {result.states[1]}"
    yield f"simulated time: {result.end / 1e9:.6f} s"
    if not udp:
        profile = PROFILES[result.scenario.profile]
        yield f"profile: {profile.name} ({profile.description})"
