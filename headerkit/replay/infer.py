"""Infer a scenario from one captured TCP stream: sans-IO, decoded segments in, a scenario
table (as :func:`headerkit.sim.scenario_from_dict` reads it) out.

What the capture shows, and how it becomes a setting:

* **path delay**: half the handshake's round trip (SYN → SYN-ACK → ACK). Where the capture
  was taken follows from the same three packets: next to the opener (``a``), the SYN-ACK
  comes back a round trip after the SYN; next to the listener (``b``), the ACK does.
* **bandwidth**: from the spacing of back-to-back full segments where they arrive, or of
  the ACKs that clock them out at the sender; none visible means an unlimited path.
* **MSS and window scaling**: each side's SYN options. **Receive buffer**: the largest
  window a side advertised (the model advertises its free buffer).
* **send() calls**: new data grouped by pauses longer than 1.5 round trips; each group is
  one ``send`` at the time its first byte left. A sender whose data in flight stays at a
  plateau below the peer's window for 3 round trips had a full send buffer: that plateau.
* **recv() calls**: a side whose advertised window falls to (nearly) nothing kept unread
  data; every window growth is then a read of that many bytes at that time. A side whose
  window never closes reads as data arrives (one ``recv`` loop, or a ``recv`` of each burst
  when it acts again before the end of the stream). Windows that only grow (autotuning) or
  dip are not reads.
* **losses**: a data segment sent again was lost (next to the sender); a hole in the
  sequence numbers was (next to the receiver). Each becomes a ``drop`` rule.
* **keep-alive**: a side's keep-alives give SO_KEEPALIVE's idle time (since the peer last
  sent) and interval; probes left unanswered before the side's reset give their count,
  and the peer's answers are dropped on the way (what such a capture can tell).
* **close**: a FIN right after the last data is a ``close()`` after the last ``send()``; a
  later FIN is a ``close()`` at its time; a FIN followed by more incoming data is
  ``shutdown()``.

What it cannot see is said in ``notes``: packets lost between the capture point and the far
end, how the application split a burst into calls, read sizes a window never showed.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from headerkit.errors import ReplayError
from headerkit.replay.segments import Seen
from headerkit.schemas import tcp as t

GAP_RTTS = 1.5  # new data after a pause this many round trips long is a new send() call
PLATEAU_RTTS = 3.0  # a flight plateau this long (below the peer's window) is the send buffer
UNLIMITED = 1e9  # bit/s: a path at least this fast is taken as unlimited
DEFAULT_RTT = 0.001  # seconds, when no round trip can be measured
HEADERS = 40  # IPv4 + TCP without options, as the model counts wire bytes
RETRANSMITTED = frozenset({"retransmission", "fast_retransmission"})
MAX_CALLS = 400  # reads beyond this are merged, so a scenario stays readable
MIN_KEEPALIVE_IDLE = 1.0  # seconds: Linux's least TCP_KEEPIDLE


@dataclass(slots=True)
class Inference:
    """The scenario inferred from a stream, and what the inference could not be sure of."""

    scenario: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    capture: str = "a"
    rtt: float = DEFAULT_RTT


@dataclass(slots=True)
class _Side:
    """What one side did, as seen in the capture (times are the model's)."""

    syn: Seen | None = None
    segments: list[Seen] = field(default_factory=list)
    sends: list[tuple[float, int]] = field(default_factory=list)
    reads: list[tuple[float, int]] = field(default_factory=list)
    fin: Seen | None = None
    rst: Seen | None = None
    end_at: float | None = None  # when its FIN or RST left, on the model's clock
    last_data: Seen | None = None


def infer(segments: Sequence[Seen], name: str = "replay") -> Inference:
    """A scenario that replays ``segments`` (one stream, side 0 the opener)."""
    if not segments:
        raise ReplayError("the stream has no segments")
    notes: list[str] = []
    sides = (_Side(), _Side())
    for seg in segments:
        side = sides[seg.side]
        side.segments.append(seg)
        if seg.flags & t.SYN and side.syn is None:
            side.syn = seg
    rtt, capture = _round_trip(segments, sides, notes)
    delay = rtt / 2

    def model_time(seg: Seen) -> float:
        """When ``seg`` left its sender, on the model's clock (a's SYN at 0)."""
        if seg.side == 0:
            return seg.time
        return seg.time - delay if capture == "a" else seg.time + delay

    mss = [_mss(side) for side in sides]
    nodelay = [_nagle_off(side, sides[1 - i], mss[i]) for i, side in enumerate(sides)]
    for index, side in enumerate(sides):
        here = (capture == "a") == (index == 0)
        _sends(side, sides[1 - index], rtt, model_time, nodelay[index], here)
        side.fin = next((s for s in side.segments if s.flags & t.FIN), None)
        side.rst = next((s for s in side.segments if s.flags & t.RST), None)
        end = side.rst or side.fin
        side.end_at = None if end is None else round(model_time(end), 6)
    for index, side in enumerate(sides):
        _reads(side, sides[1 - index], model_time)
    path: dict[str, Any] = {"delay": round(delay, 6)}
    bandwidth = _bandwidth(segments, capture, sides, rtt, min(mss))
    if bandwidth:
        path["bandwidth"] = bandwidth
    if min(mss) < 1460:
        path["mtu"] = min(mss) + HEADERS
    for direction, rules in _drops(segments, capture, min(mss), notes).items():
        path[direction] = {"rules": rules}
    scenario: dict[str, Any] = {
        "name": name,
        "description": "inferred by headerkit replay from a captured TCP stream",
        "protocol": "tcp",
        "capture": capture,
        "until": round(max(60.0, segments[-1].time * 2 + 10 * rtt), 3),
        "path": path,
    }
    for index, key in enumerate("ab"):
        scenario[key] = _endpoint(sides, index, mss[index], rtt, nodelay[index])
        here = (capture == "a") == (index == 0)
        probes = scenario[key].get("keepalive_probes")
        if here and probes:  # the probes went unanswered: the peer's answers never came
            heard = len(sides[1 - index].segments)
            rule = {
                "action": "drop",
                "match": "any",
                "nth": list(range(heard + 1, heard + probes + 2)),
            }
            direction = path.setdefault("b_to_a" if index == 0 else "a_to_b", {"rules": []})
            direction["rules"].append(rule)
            notes.append(
                f"{key}'s keep-alives went unanswered: the replay loses its peer's answers"
            )
    b_syn = sides[1].syn
    if b_syn is not None and not b_syn.flags & t.ACK:  # both sent a plain SYN
        scenario["b"]["connect"] = True
        scenario["b"]["connect_at"] = round(model_time(b_syn), 6)
    if not sides[0].sends and not sides[1].sends:
        notes.append("no data in the stream: only the handshake and close are replayed")
    return Inference(scenario, notes, capture, rtt)


def _round_trip(
    segments: Sequence[Seen], sides: tuple[_Side, _Side], notes: list[str]
) -> tuple[float, str]:
    synack = next((s for s in sides[1].segments if s.flags & t.SYN and s.flags & t.ACK), None)
    syn = None
    if synack is not None:  # the SYN that was answered: the last one before the SYN-ACK
        syns = [s for s in sides[0].segments if s.flags & t.SYN and s.time <= synack.time]
        syn = syns[-1] if syns else None
    ack = None
    if syn is not None and synack is not None and not syn.flags & t.ACK:
        ack = next(
            (s for s in sides[0].segments if s.time >= synack.time and not s.flags & t.SYN), None
        )
    if syn is None or synack is None or ack is None:
        notes.append(
            "the handshake is not in the capture: delay, MSS and window scale are guessed, "
            "and the capture point is taken to be the opener's"
        )
        samples = [
            later.time - seg.time
            for seg in segments
            if seg.length
            for later in segments
            if later.side != seg.side
            and later.ack >= seg.seq + seg.length
            and later.time > seg.time
        ][:1000]
        return (min(samples) if samples else DEFAULT_RTT), "a"
    there, back = synack.time - syn.time, ack.time - synack.time
    return max(there + back, 1e-6), ("a" if there >= back else "b")


def _sends(side: _Side, peer: _Side, rtt: float, model_time: Any, each: bool, here: bool) -> None:
    """Group the side's new data into send() calls: after a pause, new data starts a call
    unless the pause is the network's (data still unacknowledged, or a zero window).
    ``each``: every segment is a call of its own (a sender without Nagle's algorithm);
    ``here``: the capture was taken next to this side."""
    highest = 0
    previous: Seen | None = None
    acks = [s for s in peer.segments if s.flags & t.ACK]
    for seg in side.segments:
        end = seg.seq + seg.length
        if not seg.length or end <= highest:
            continue
        fresh = end - max(highest, seg.seq)
        gap = seg.time - previous.time if previous is not None else math.inf
        idle = gap > max(GAP_RTTS * rtt, 0.010)
        answered = previous is not None and any(  # the peer's data came in between: a new turn
            p.length and previous.time < p.time < seg.time for p in peer.segments
        )
        if idle and previous is not None:
            last = next((a for a in reversed(acks) if a.time <= seg.time), None)
            lag = 0.0 if here else rtt  # an ACK seen next to the receiver reaches us later
            clocked = any(0 <= seg.time - a.time - lag <= 0.001 for a in acks)
            idle = not (last is None or last.ack < highest or last.window == 0 or clocked)
        highest = end
        if idle or each or answered or not side.sends:
            side.sends.append((round(model_time(seg), 6), fresh))
        else:
            at, size = side.sends[-1]
            side.sends[-1] = (at, size + fresh)
        previous = seg
        side.last_data = seg


def _reads(side: _Side, peer: _Side, model_time: Any) -> None:
    """The side's reads, where its advertised window shows them (see the module docstring)."""
    incoming = sum(size for _, size in peer.sends)
    if not incoming:
        return
    slack = 2 * max((s.length for s in peer.segments), default=1460)
    read = 0
    slow = False
    rcvbuf = 0  # the largest window so far: a stack that autotunes grows it as it goes
    for seg in side.segments:
        rcvbuf = max(rcvbuf, seg.window)
        if not seg.flags & t.ACK or seg.flags & t.SYN or "duplicate_ack" in seg.analysis:
            continue  # (a duplicate ACK's window also counts out-of-order data held)
        received = min(max(0, seg.ack - 1), incoming)  # (a FIN takes a sequence number)
        unread = rcvbuf - seg.window
        slow = slow or (unread > slack and seg.window <= slack)  # the buffer (nearly) filled
        now_read = received - max(0, unread)
        if slow and now_read > read:
            side.reads.append((round(model_time(seg), 6), now_read - read))
        read = max(read, now_read)
    if not slow:
        side.reads.clear()


def _bandwidth(
    segments: Sequence[Seen], capture: str, sides: tuple[_Side, _Side], rtt: float, mss: int
) -> int:
    """The path's bit rate from the tightest spacing of full segments (or of their ACKs)."""
    sender = 0 if sum(s for _, s in sides[0].sends) >= sum(s for _, s in sides[1].sends) else 1
    here = (capture == "a") == (sender == 0)
    rates: list[float] = []
    if here:  # next to the sender: ACKs come back spaced by the bottleneck
        acks = [s for s in sides[1 - sender].segments if s.flags & t.ACK and not s.length]
        for before, after in itertools.pairwise(acks):
            acked, spacing = after.ack - before.ack, after.time - before.time
            if acked >= mss > 0 and 0 < spacing < rtt / 2:
                rates.append((acked + HEADERS * round(acked / mss)) * 8 / spacing)
    else:  # next to the receiver: data arrives spaced by the bottleneck
        data = [s for s in sides[sender].segments if s.length]
        for before, after in itertools.pairwise(data):
            spacing = after.time - before.time
            if 0 < spacing < rtt / 2 and after.length == before.length:
                rates.append(after.wire_bytes * 8 / spacing)
    if len(rates) < 3:
        return 0
    rate = statistics.median(sorted(rates)[-max(3, len(rates) // 2) :])
    return 0 if rate >= UNLIMITED else int(round(rate, -3))


def _mss(side: _Side) -> int:
    if side.syn is not None and side.syn.mss:
        return int(side.syn.mss)
    return max((s.length for s in side.segments), default=1460) or 1460


def _drops(
    segments: Sequence[Seen], capture: str, mss: int, notes: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """``drop`` rules per direction (``a_to_b``, ``b_to_a``) for what the path lost."""
    rules: dict[str, list[dict[str, Any]]] = {}
    for sender in (0, 1):
        direction = "a_to_b" if sender == 0 else "b_to_a"
        here = (capture == "a") == (sender == 0)
        syns = [s for s in segments if s.side == sender and s.flags & t.SYN]
        lost = [  # a SYN (or SYN-ACK) sent again was lost
            index
            for index, syn in enumerate(syns, 1)
            if any(later.flags == syn.flags for later in syns[index:])
        ]
        if here and lost:
            rules.setdefault(direction, []).append({"action": "drop", "match": "syn", "nth": lost})
        data = [s for s in segments if s.side == sender and s.length]
        dropped = _lost_data(data, here, mss)
        if dropped:
            rules.setdefault(direction, []).append(
                {"action": "drop", "match": "data", "nth": dropped}
            )
            notes.append(
                "losses are taken from retransmissions (next to the sender) or holes in the "
                "sequence numbers (next to the receiver); what was lost on the far side of "
                "the capture point in the other direction is not visible"
            )
    return rules


def _lost_data(data: list[Seen], here: bool, mss: int) -> list[int]:
    """1-based indexes of the data segments (retransmissions counted) the path dropped."""
    dropped: list[int] = []
    if here:  # next to the sender: the copy holding a retransmission's first byte was lost
        for position, again in enumerate(data):
            if not again.analysis & RETRANSMITTED or "spurious_retransmission" in again.analysis:
                continue
            lost = next(
                (
                    index
                    for index in range(position, 0, -1)
                    if data[index - 1].seq
                    <= again.seq
                    < data[index - 1].seq + data[index - 1].length
                ),
                None,
            )
            if lost is not None and lost not in dropped:
                dropped.append(lost)
        return sorted(dropped)
    expected, count = 1, 0  # next to the receiver: a hole in the sequence numbers was lost
    for seg in data:
        if seg.seq > expected:
            missing = math.ceil((seg.seq - expected) / max(mss, 1))
            dropped.extend(range(count + 1, count + missing + 1))
            count += missing
        count += 1
        expected = max(expected, seg.seq + seg.length)
    return dropped


def _endpoint(
    sides: tuple[_Side, _Side], index: int, mss: int, rtt: float, nodelay: bool
) -> dict[str, Any]:
    side, peer = sides[index], sides[1 - index]
    config: dict[str, Any] = {"mss": mss}
    rcvbuf = max(s.window for s in side.segments)
    config["rcvbuf"] = rcvbuf
    if side.syn is not None:
        config["window_scaling"] = side.syn.wscale is not None
    sent = sum(size for _, size in side.sends)
    plateau = _sndbuf_plateau(side, peer, rtt)
    config["sndbuf"] = plateau or max(65536, sent)
    if nodelay:
        config["nodelay"] = True
    if _acks_at_once(side, peer, rtt):
        config["delayed_ack"] = False
    keepalive = _keepalive(side, peer)
    if "keepalive_probes" in keepalive:
        side.rst = None  # the stack's reset after its unanswered probes, not a close() call
    config |= keepalive
    config["calls"] = _calls(side, peer, rtt / 2)
    return config


def _keepalive(side: _Side, peer: _Side) -> dict[str, Any]:
    """SO_KEEPALIVE, from the keep-alives a side sent: the idle time before its first probe
    (since the peer's last segment), the time between unanswered probes and, when it reset
    the connection after them, how many it sent."""
    probes = [s for s in side.segments if "keep_alive" in s.analysis and not s.length]
    if not probes:
        return {}
    first = probes[0]
    idle = first.time - max((s.time for s in peer.segments if s.time < first.time), default=0.0)
    if idle < MIN_KEEPALIVE_IDLE:
        return {}  # sooner than any keep-alive timer: tshark's name for something else
    settings: dict[str, Any] = {"keepalive": round(idle, 3)}
    unanswered: list[Seen] = []  # the probes since the peer last sent anything
    for probe in probes:
        if unanswered and _heard(peer, unanswered[-1].time, probe.time):
            unanswered = []
        unanswered.append(probe)
        if len(unanswered) > 1:
            settings["keepalive_interval"] = round(unanswered[-1].time - unanswered[-2].time, 3)
    rst = side.rst
    gave_up = rst is not None and rst.time > unanswered[-1].time
    if gave_up and rst is not None and not _heard(peer, unanswered[-1].time, rst.time):
        settings["keepalive_probes"] = len(unanswered)
    return settings


def _heard(peer: _Side, after: float, before: float) -> bool:
    """Did the peer send anything between the two times?"""
    return any(after < s.time < before for s in peer.segments)


def _sndbuf_plateau(side: _Side, peer: _Side, rtt: float) -> int | None:
    """The send buffer, when the data in flight sat at one level below the peer's window."""
    acks = [s for s in peer.segments if s.flags & t.ACK]
    if not side.sends or not acks:
        return None
    flights: list[tuple[float, int, int]] = []
    highest = 0
    for seg in side.segments:
        if not seg.length or seg.seq + seg.length <= highest:
            continue  # only new data shows the buffer
        highest = seg.seq + seg.length
        acked = max((a.ack for a in acks if a.time <= seg.time), default=1)
        window = max((a.window for a in acks if a.time <= seg.time), default=0)
        flights.append((seg.time, highest - acked, window))
    top = max(f for _, f, _ in flights)
    if top >= sum(size for _, size in side.sends):
        return None  # everything was in flight at once: no buffer limit shows
    at_top = [(time, window) for time, f, window in flights if f == top]
    if len(at_top) < 3 or at_top[-1][0] - at_top[0][0] < PLATEAU_RTTS * rtt:
        return None
    return top if all(window > top for _, window in at_top) else None


def _nagle_off(side: _Side, peer: _Side, mss: int) -> bool:
    """True when small segments left while earlier data was unacknowledged (not FINs, not
    cut short by the peer's window): Nagle's algorithm would have held them."""
    acks = [s for s in peer.segments if s.flags & t.ACK]
    highest, held = 0, 0
    for seg in side.segments:
        if not seg.length or seg.seq + seg.length <= highest:
            continue
        last = next((a for a in reversed(acks) if a.time < seg.time), None)
        acked = last.ack if last is not None else 1
        edge = acked + (last.window if last is not None else 0)
        window_limited = seg.seq + seg.length >= edge
        if seg.length < mss and highest > acked and not seg.flags & t.FIN and not window_limited:
            held += 1
        highest = seg.seq + seg.length
    return held >= 2


def _acks_at_once(side: _Side, peer: _Side, rtt: float) -> bool:
    """True when the side acknowledged each data segment alone and without delay."""
    data = [s for s in peer.segments if s.length]
    acks = [s for s in side.segments if s.flags & t.ACK and not s.flags & t.SYN]
    if len(data) < 3:
        return False
    waits = []
    for seg in data:
        end = seg.seq + seg.length + (1 if seg.flags & t.FIN else 0)
        first = next((a for a in acks if a.ack >= end and a.time >= seg.time), None)
        if first is None or first.ack != end:
            return False  # acknowledged together with a later segment
        waits.append(abs(first.time - seg.time) - rtt if first.side else first.time - seg.time)
    return statistics.median(abs(w) for w in waits) < min(0.010, rtt / 2 + 0.005)


def _calls(side: _Side, peer: _Side, delay: float) -> list[dict[str, Any]]:
    """The side's socket calls in time order: sends, reads, and its close.

    A side that reads as data arrives gets, for each burst of incoming data, a
    ``recv(size, MSG_WAITALL)`` when it acts again before the peer's FIN, else one ``recv``
    loop to the end of the stream."""
    events: list[tuple[float, float, dict[str, Any]]] = []
    for at, size in side.sends:
        events.append((at, 1, {"call": "send", "size": size, "at": at}))
    for at, size in side.reads[:MAX_CALLS]:
        events.append((at, 1, {"call": "recv", "size": size, "at": at}))
    closing = _close(side, peer)
    if closing is not None:
        events.append((side.end_at or math.inf, 2, closing))
    peer_end = (peer.end_at + delay) if peer.end_at is not None else math.inf
    resets = side.rst is not None and (side.fin is None or side.rst.time < side.fin.time)
    if resets:  # close() with unread data (Linux sends RST): what its window shows read was
        if not side.reads:
            events += _read_before_reset(side, peer, delay)
    elif peer.sends and not side.reads:
        own = sorted(at for at, _, call in events if call["call"] in ("send", "close", "shutdown"))
        for at, size in peer.sends:
            arrival = at + delay
            acts_again = any(arrival <= mine < peer_end for mine in own)
            if acts_again:
                events.append((arrival, 0, {"call": "recv", "size": size, "waitall": True}))
            else:
                events.append((arrival, 0, {"call": "recv", "size": 65536, "loop": True}))
                break
    elif side.reads:
        last = side.reads[min(len(side.reads), MAX_CALLS) - 1][0]
        events.append((last, 1.5, {"call": "recv", "size": 65536, "loop": True}))
    events.sort(key=lambda e: (e[0], e[1]))
    calls = [call for _, _, call in events]
    if (calls and calls[-1]["call"] == "shutdown") or any(c["call"] == "shutdown" for c in calls):
        calls.append({"call": "close"})
    return calls


def _read_before_reset(
    side: _Side, peer: _Side, delay: float
) -> list[tuple[float, float, dict[str, Any]]]:
    """A side that reset the connection left unread what its last window lacks of its
    largest: the bursts before that were read, each as it came (``recv`` with MSG_WAITALL)."""
    assert side.rst is not None
    windows = [
        s.window
        for s in side.segments
        if s.flags & t.ACK and not s.flags & (t.SYN | t.RST) and s.time < side.rst.time
    ]
    if not windows:
        return []
    left = sum(size for _, size in peer.sends) - (max(windows) - windows[-1])
    reads = []
    for at, size in peer.sends:
        if size > left:
            break
        left -= size
        reads.append((at + delay, 0.0, {"call": "recv", "size": size, "waitall": True}))
    return reads


def _close(side: _Side, peer: _Side) -> dict[str, Any] | None:
    end = side.rst or side.fin
    if end is None:
        return None
    last_data = side.last_data.time if side.last_data is not None else -math.inf
    peer_fin = peer.fin.time if peer.fin is not None and peer.fin.time <= end.time else -math.inf
    late = end.time - max(last_data, peer_fin) > 0.001
    op = "close"
    if side.fin is not None and side.rst is None:
        incoming_after = any(s.length and s.time > side.fin.time for s in peer.segments)
        op = "shutdown" if incoming_after else "close"
    call: dict[str, Any] = {"call": op}
    if late:
        call["at"] = side.end_at
    return call
