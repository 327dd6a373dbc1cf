"""Play a packetdrill script against the model: the script is the remote peer and the
application, the model is the local stack.

Time is the model's own clock, in nanoseconds, moved forward event by event: timers fire
on the way, and every segment the model sends is queued with the time it left. An outbound
line (``>``) takes the next queued segment, or moves time on until one leaves, and checks
its time within packetdrill's tolerance and its fields one by one; an inbound line (``<``)
is handed to the model at its time; a system call is made at its time and its return value
and errno checked. A blocking call that cannot return yet stays pending while later lines
run, and is checked when it returns, against its end time. Relative times (``+0.1``) count
from the moment the previous line happened, as packetdrill counts them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from headerkit import seqnum
from headerkit.errors import ScriptMismatch, ScriptUnsupported
from headerkit.packetdrill.config import CONGESTION, Settings, read_settings, refuse_unsupported
from headerkit.packetdrill.script import (
    Arg,
    Elided,
    Event,
    Foreign,
    OptionSpec,
    Packet,
    Python,
    Script,
    SegmentSpec,
    Shell,
    Syscall,
    TimeKind,
)
from headerkit.packetdrill.stack import (
    LOCAL_ISS,
    NS,
    OPTIONS,
    LocalStack,
    SocketError,
    TcpConfig,
    Wire,
)
from headerkit.packetdrill.tcp_info import TcpInfoBlock
from headerkit.schemas import tcp as t
from headerkit.sim.tcp.config import KEEPALIVE_TIME
from headerkit.sim.tcp.profiles import PROFILES, socket_buffer
from headerkit.tcp_states import NOT_OPENED, SYNCHRONIZED, TcpState

REMOTE_ISN = 0x7A00_0000  # the script's peer numbers its bytes from here
O_NONBLOCK = 0x800
O_RDWR = 0x2
_LETTER = {letter: bit for bit, letter in t.FLAG_LETTERS}
_MAX_TIMER_STEPS = 100_000  # timers fired while waiting for one event: bounds a runaway model
_MAX_SEGMENT = 1 << 24


def flag_bits(letters: str) -> int:
    """Flag letters (``"S."``, ``"P."``, ``"-"``) as header bits."""
    return sum(_LETTER[c] for c in set(letters) if c in _LETTER)


def flag_letters(bits: int) -> str:
    return "".join(letter for bit, letter in t.FLAG_LETTERS if bits & bit) or "-"


@dataclass(slots=True)
class Step:
    """One line as it was played: the model's time and what it did, for ``--trace``."""

    line: int
    time_ns: int
    text: str
    outcome: str


@dataclass(slots=True)
class _Pending:
    """A blocking call waiting for the model (``retry`` returns a result once it can)."""

    event: Event
    retry: Callable[[], int | None]
    end_ns: int | None


@dataclass(slots=True)
class Run:
    """The state of one script run."""

    script: Script
    settings: Settings
    stack: LocalStack
    profile: str = "linux"
    keepidle: float = KEEPALIVE_TIME  # TCP_KEEPIDLE, for SO_KEEPALIVE
    now: int = 0
    queued: int = 0  # index in stack.sent of the next segment no outbound line took yet
    fds: dict[int, str] = field(default_factory=dict)  # fd -> "listener" | "connection"
    nonblocking: set[int] = field(default_factory=set)
    next_fd: int = 3
    accepted: bool = False
    pending: _Pending | None = None
    steps: list[Step] = field(default_factory=list)
    remote_wscale: int | None = None
    python: TcpInfoBlock = field(default_factory=TcpInfoBlock)

    # -- the clock -----------------------------------------------------------------------
    def advance(self, until: int) -> None:
        """Move the model's clock to ``until``, firing the timers due on the way."""
        for _ in range(_MAX_TIMER_STEPS):
            deadline = self.stack.next_deadline()
            if deadline is None or deadline > until:
                break
            self.now = max(self.now, deadline)
            self.stack.fire_timers(self.now)
            self._retry_pending()
        else:
            raise ScriptUnsupported(self.script.path, 0, "a model whose timers never settle")
        self.now = max(self.now, until)

    def _retry_pending(self) -> None:
        if self.pending is None:
            return
        result = self.pending.retry()
        if result is None:
            return
        pending, self.pending = self.pending, None
        call = pending.event.action
        assert isinstance(call, Syscall)
        if pending.end_ns is not None:
            self._check_time(pending.event, pending.end_ns, self.now, "the call to return")
        self._check_result(pending.event, call, result, None)

    # -- checks -----------------------------------------------------------------------------
    def tolerance(self) -> int:
        return self.settings.tolerance_us * 1000

    def _check_time(self, event: Event, expected: int, actual: int, what: str) -> None:
        if abs(actual - expected) > self.tolerance():
            self.mismatch(
                event,
                f"expected {what} at {expected / NS:.6f} s",
                f"at {actual / NS:.6f} s (tolerance {self.tolerance() / NS:.6f} s)",
            )

    def _check_result(self, event: Event, call: Syscall, result: int, errno: str | None) -> None:
        self.steps.append(Step(event.line, self.now, event.text, f"= {result}"))
        if call.result is None:
            return
        if result != call.result or (call.errno is not None and errno != call.errno):
            got = f"{result}" + (f" {errno}" if errno else "")
            want = f"{call.result}" + (f" {call.errno}" if call.errno else "")
            self.mismatch(event, f"{call.name}() = {want}", f"{call.name}() = {got}")

    def mismatch(self, event: Event, expected: str, actual: str) -> None:
        raise ScriptMismatch(
            self.script.path,
            event.line,
            f"{event.text}\n  expected: {expected}\n  the model: {actual}\n"
            f"  model at {self.now / NS:.6f} s: {self.stack.describe()}",
        )

    def unsupported(self, event: Event, feature: str) -> None:
        raise ScriptUnsupported(self.script.path, event.line, feature)


def run_script(
    script: Script, config: TcpConfig | None = None, profile: str = "linux"
) -> list[Step]:
    """Play ``script`` against the model (the stack ``profile`` describes, unless a
    ``config`` is given); return the steps. Raises
    :class:`~headerkit.errors.ScriptMismatch` at the first line the model does not follow and
    :class:`~headerkit.errors.ScriptUnsupported` for what the model does not have."""
    settings = read_settings(script)
    refuse_unsupported(settings, script.path)
    stack = LocalStack(config or stack_config(settings, profile))
    run = Run(script, settings, stack, profile)
    previous = 0
    for event in script.events:
        start, end = _times(event, run.now if event.time.kind is TimeKind.RELATIVE else previous)
        action = event.action
        if isinstance(action, Foreign):
            run.unsupported(event, action.what)
        elif isinstance(action, Python):
            run.advance(start)
            _python(run, event, action.code)
        elif isinstance(action, Shell):
            run.unsupported(event, f"the shell command `{action.command}` in mid-script")
        elif isinstance(action, Packet) and action.inbound:
            run.advance(start)
            _inject(run, event, action.segment)
        elif isinstance(action, Packet):
            _expect(run, event, action.segment, start, end)
        elif isinstance(action, Syscall):
            run.advance(start)
            _syscall(run, event, action, end)
        previous = start
    if run.pending is not None:
        run.advance(run.now + run.tolerance())
        if run.pending is not None:
            run.mismatch(run.pending.event, "the call to return", "it is still blocked")
    return run.steps


def _python(run: Run, event: Event, code: str) -> None:
    """An inline Python block: its assertions on tcp_info hold for the model, or mismatch."""
    try:
        failed = run.python.run(code, run.stack.endpoint)
    except NotImplementedError as missing:
        run.unsupported(event, str(missing))
    if failed:
        run.mismatch(event, "the assertion to hold", failed)
    run.steps.append(Step(event.line, run.now, event.text, "held"))


def stack_config(settings: Settings, profile: str = "linux") -> TcpConfig:
    """The model's configuration for a script's settings: the profile's (linux: as the
    kernel packetdrill drives) over packetdrill's tun device (MTU 1500), with the script's
    sysctls.

    The window scale is the one Linux offers: the least that fits the largest receive buffer
    the socket may grow to (tcp_rmem's maximum)."""
    base = TcpConfig(**PROFILES[profile].endpoint)
    return replace(
        base,
        mss=1460,
        rcvbuf=settings.rmem[1],
        rcvbuf_max=settings.rmem[2],
        sndbuf=settings.wmem[1],
        window_scaling=settings.window_scaling,
        sack=settings.sack,
        timestamps=settings.timestamps,
        congestion=CONGESTION[settings.congestion_control],
        # a stack that builds offload packets does so whether the device segments them or not
        min_tso_segs=settings.min_tso_segs if base.min_tso_segs else 0,
        slow_start_after_idle=settings.slow_start_after_idle,
    )


def _times(event: Event, base: int) -> tuple[int, int | None]:
    """The event's start (and end) in model ns; relative times count from ``base``."""
    time = event.time
    if time.kind is TimeKind.ANY:
        return base, None
    offset = base if time.kind is TimeKind.RELATIVE else 0
    start = offset + round(time.start * NS)
    end = None if time.end is None else offset + round(time.end * NS)
    return start, end


# -- inbound segments ------------------------------------------------------------------------
def _inject(run: Run, event: Event, spec: SegmentSpec) -> None:
    if spec.ecn is not None:
        run.unsupported(event, f"ECN marks ([{spec.ecn}])")
    if spec.urgent is not None or "U" in spec.flags:
        run.unsupported(event, "urgent data")
    if spec.length > _MAX_SEGMENT or spec.length != spec.end - spec.seq:
        run.unsupported(event, f"a segment {spec.seq}:{spec.end}({spec.length})")
    options = _inbound_options(run, event, spec.options or ())
    flags = flag_bits(spec.flags)
    if flags & t.SYN:
        run.remote_wscale = next((v[0] for n, v in options if n == "wscale"), None)
    wire = Wire(
        flags,
        seqnum.add(REMOTE_ISN, spec.seq),
        seqnum.add(LOCAL_ISS, (spec.ack or 0)) if flags & t.ACK else 0,
        spec.window if spec.window is not None else 0,
        spec.length,
        options,
    )
    run.steps.append(Step(event.line, run.now, event.text, "injected"))
    run.stack.inject(wire, run.now)
    run._retry_pending()


def _inbound_options(
    run: Run, event: Event, specs: tuple[OptionSpec, ...]
) -> tuple[tuple[str, tuple[int, ...]], ...]:
    options = []
    for spec in specs:
        name = _OPTION_NAMES.get(spec.name, spec.name)
        if name in ("sackOK", "sack") and not run.settings.sack:
            continue  # SACK switched off: the stack ignores it
        if name == "TS" and not run.settings.timestamps:
            continue
        if name not in OPTIONS:
            run.unsupported(event, _FEATURES.get(name, f"the TCP option {spec.name}"))
        if None in spec.values:
            run.unsupported(event, f"a wildcard in an inbound {spec.name} option")
        values = tuple(v for v in spec.values if v is not None)
        if name == "sack":  # the peer SACKs our data: edges relative to our ISS
            values = tuple(seqnum.add(LOCAL_ISS, v) for v in values)
        options.append((name, values))
    return tuple(options)


# packetdrill's option names -> the model's, and what a missing one is called
_OPTION_NAMES = {"sackOK": "sackOK", "TS": "TS", "FO": "FO", "FOEXP": "FO"}
_FEATURES = {
    "sackOK": "SACK (RFC 2018)",
    "sack": "SACK blocks (RFC 2018)",
    "TS": "TCP timestamps (RFC 7323)",
    "FO": "TCP Fast Open (RFC 7413)",
    "md5": "TCP MD5 signatures (RFC 2385)",
}


# -- outbound segments -----------------------------------------------------------------------
def _expect(run: Run, event: Event, spec: SegmentSpec, start: int, end: int | None) -> None:
    latest = (end if end is not None else start) + run.tolerance()
    if event.time.kind is TimeKind.ANY:
        latest = run.now + 600 * NS
    sent = _next_sent(run, latest)
    if sent is None:
        run.now = max(run.now, latest)
        run.mismatch(event, f"{_show_spec(spec)} by {latest / NS:.6f} s", "sent nothing")
        return
    when, wire = sent
    if run.settings.tso:
        when, wire = _offloaded(run, when, wire, spec.length)
    run.now = max(run.now, when)
    _compare(run, event, spec, wire)
    if event.time.kind is not TimeKind.ANY:
        if end is not None and event.time.end is not None and not event.time.blocking:
            if not start - run.tolerance() <= when <= end + run.tolerance():
                run._check_time(event, start, when, "the segment")
        else:
            run._check_time(event, start, when, "the segment")
    run.steps.append(Step(event.line, when, event.text, f"sent {_show_wire(wire)}"))


def _offloaded(run: Run, when: int, wire: Wire, length: int) -> tuple[int, Wire]:
    """With segmentation offload the stack hands the device one packet where the wire
    carries several segments.  As packetdrill does, the model's next segments are joined
    until they hold ``length`` bytes: the sequence number is the first's, every other header
    field and the time the last's."""
    queue = run.stack.sent
    while wire.length < length and run.queued < len(queue):
        at, following = queue[run.queued]
        contiguous = following.seq == seqnum.add(wire.seq, wire.length)
        if not contiguous or not following.length or following.flags & t.SYN:
            break
        run.queued += 1
        when = at
        wire = Wire(
            following.flags,
            wire.seq,
            following.ack,
            following.window,
            wire.length + following.length,
            following.options,
        )
    return when, wire


def _next_sent(run: Run, latest: int) -> tuple[int, Wire] | None:
    """The next segment the model sent, moving time on (at most to ``latest``) for it."""
    for _ in range(_MAX_TIMER_STEPS):
        if run.queued < len(run.stack.sent):
            run.queued += 1
            return run.stack.sent[run.queued - 1]
        deadline = run.stack.next_deadline()
        if deadline is None or deadline > latest:
            return None
        run.now = max(run.now, deadline)
        run.stack.fire_timers(run.now)
        run._retry_pending()
    return None


def _compare(run: Run, event: Event, spec: SegmentSpec, wire: Wire) -> None:
    differences = []
    if flag_bits(spec.flags) != wire.flags:
        differences.append(f"flags {flag_letters(wire.flags)} (expected {spec.flags})")
    seq = seqnum.add(wire.seq, -LOCAL_ISS)
    if (seq, wire.length) != (spec.seq, spec.length):
        differences.append(f"{seq}:{seq + wire.length}({wire.length})")
    if spec.ack is not None and wire.flags & t.ACK:
        ack = seqnum.add(wire.ack, -REMOTE_ISN)
        if ack != spec.ack:
            differences.append(f"ack {ack} (expected {spec.ack})")
    if spec.window is not None and wire.window != spec.window:
        differences.append(f"win {wire.window} (expected {spec.window})")
    if spec.options is not None:
        expected = []
        for option in spec.options:
            name = _OPTION_NAMES.get(option.name, option.name)
            if name not in OPTIONS:
                run.unsupported(event, _FEATURES.get(name, f"the TCP option {option.name}"))
            values = option.values
            if name == "TS":  # the stack's clock is its own: its TSval is not compared
                values = (None, *values[1:])
            expected.append((name, values))
        actual = tuple(
            (name, tuple(seqnum.add(v, -REMOTE_ISN) for v in values) if name == "sack" else values)
            for name, values in wire.options
        )
        if not _options_match(expected, actual):
            differences.append(f"options <{_show_options(wire.options)}>")
    if differences:
        run.mismatch(event, _show_spec(spec), "; ".join(differences))


def _options_match(
    expected: list[tuple[str, tuple[int | None, ...]]],
    actual: tuple[tuple[str, tuple[int, ...]], ...],
) -> bool:
    if len(expected) != len(actual):
        return False
    for (name, values), (got_name, got) in zip(expected, actual, strict=True):
        if name != got_name or len(values) != len(got):
            return False
        if any(v is not None and v != g for v, g in zip(values, got, strict=True)):
            return False
    return True


def _show_options(options: tuple[tuple[str, tuple[int, ...]], ...]) -> str:
    return ",".join(" ".join([name, *map(str, values)]) for name, values in options)


def _show_wire(wire: Wire) -> str:
    seq = seqnum.add(wire.seq, -LOCAL_ISS)
    text = f"{flag_letters(wire.flags)} {seq}:{seq + wire.length}({wire.length})"
    if wire.flags & t.ACK:
        text += f" ack {seqnum.add(wire.ack, -REMOTE_ISN)}"
    text += f" win {wire.window}"
    return text + (f" <{_show_options(wire.options)}>" if wire.options else "")


def _show_spec(spec: SegmentSpec) -> str:
    text = f"{spec.flags} {spec.seq}:{spec.end}({spec.length})"
    if spec.ack is not None:
        text += f" ack {spec.ack}"
    if spec.window is not None:
        text += f" win {spec.window}"
    return text


# -- system calls --------------------------------------------------------------------------
def _syscall(run: Run, event: Event, call: Syscall, end: int | None) -> None:
    handler = _SYSCALLS.get(call.name)
    if handler is None:
        run.unsupported(event, f"the system call {call.name}()")
        return
    if run.pending is not None:
        run.unsupported(event, "a system call while another one blocks")
    try:
        outcome = handler(run, event, call)
    except SocketError as err:
        run._check_result(event, call, -1, err.errno)
        return
    if isinstance(outcome, tuple):
        run._check_result(event, call, *outcome)
        return
    blocking = _fd(run, event, call) not in run.nonblocking if call.args else True
    result = outcome()
    if result is not None:
        if end is not None and event.time.blocking:
            run._check_time(event, end, run.now, "the call to return")
        run._check_result(event, call, result, None)
    elif not blocking:
        run._check_result(event, call, -1, "EAGAIN")
    else:
        run.pending = _Pending(event, outcome, end if event.time.blocking else run.now)


Outcome = tuple[int, str | None] | Callable[[], int | None]


def _fd(run: Run, event: Event, call: Syscall) -> int:
    fd = call.args[0] if call.args else None
    if not isinstance(fd, int) or fd not in run.fds:
        run.unsupported(event, f"{call.name}() on an fd the script did not open ({_text(fd)})")
    assert isinstance(fd, int)
    return fd


def _text(arg: Arg | None) -> str:
    """A system-call argument as the script writes it."""
    if isinstance(arg, frozenset):
        return "|".join(sorted(arg))
    if isinstance(arg, bytes):
        return repr(arg.decode(errors="replace"))
    return "..." if arg is Elided.ELIDED else str(arg)


def _int_arg(args: tuple[Arg, ...], index: int, default: int) -> int:
    value = args[index] if index < len(args) else default
    if isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, int) else default


def _socket(run: Run, event: Event, call: Syscall) -> Outcome:
    if "SOCK_STREAM" not in call.args:
        run.unsupported(event, "sockets other than SOCK_STREAM")
    if "listener" in run.fds.values() or "connection" in run.fds.values():
        run.unsupported(event, "more than one socket")
    fd = call.result if call.result is not None and call.result >= 0 else run.next_fd
    run.next_fd = max(run.next_fd, fd + 1)
    run.fds[fd] = "socket"
    return fd, None  # the script's number names the socket, as packetdrill maps it


def _ok(run: Run, event: Event, call: Syscall) -> Outcome:
    _fd(run, event, call)
    return 0, None


def _listen(run: Run, event: Event, call: Syscall) -> Outcome:
    fd = _fd(run, event, call)
    run.fds[fd] = "listener"
    run.stack.listen()
    return 0, None


def _accept(run: Run, event: Event, call: Syscall) -> Outcome:
    _fd(run, event, call)

    def ready() -> int | None:
        if run.stack.state not in SYNCHRONIZED or run.accepted:
            return None
        run.accepted = True
        fd = call.result if call.result is not None and call.result >= 0 else run.next_fd
        run.next_fd = max(run.next_fd, fd + 1)
        run.fds[fd] = "connection"
        return fd

    return ready


def _connect(run: Run, event: Event, call: Syscall) -> Outcome:
    fd = _fd(run, event, call)
    run.fds[fd] = "connection"
    run.stack.connect(run.now)
    if fd in run.nonblocking:
        return -1, "EINPROGRESS"

    def established() -> int | None:
        if run.stack.state is TcpState.SYN_SENT:
            return None
        if run.stack.error:
            raise SocketError(run.stack.error)
        return 0

    return established


def _write(run: Run, event: Event, call: Syscall) -> Outcome:
    """write(fd, buf, size), send(fd, buf, size, flags), sendto(...): ``size`` bytes."""
    size = _int_arg(call.args, 2, 0)
    return _send(run, event, call, size, call.args[3] if len(call.args) > 3 else 0)


def _sendmsg(run: Run, event: Event, call: Syscall) -> Outcome:
    """sendmsg(fd, {msg_iov(n)=[{..., len}, ...], ...}, flags): the iovecs' bytes."""
    message = call.args[1] if len(call.args) > 1 else None
    iov = message.get("msg_iov") if isinstance(message, dict) else None
    if not isinstance(iov, list) or not all(isinstance(v, dict) for v in iov):
        run.unsupported(event, "sendmsg() without an msg_iov list")
    assert isinstance(iov, list)
    size = sum(n for v in iov if isinstance(v, dict) for n in v.values() if isinstance(n, int))
    return _send(run, event, call, size, call.args[2] if len(call.args) > 2 else 0)


_SEND_FLAGS = {"MSG_MORE", "MSG_NOSIGNAL"}  # flags the model has (no signals: EPIPE only)


def _send(run: Run, event: Event, call: Syscall, size: int, flags: Arg) -> Outcome:
    fd = _fd(run, event, call)
    if size < 0 or size > _MAX_SEGMENT * 16:
        run.unsupported(event, f"a write of {size} bytes")
    names = set() if flags in (0, Elided.ELIDED) else _flag_names(flags)
    if not names <= _SEND_FLAGS:
        run.unsupported(event, f"{call.name}() flags {_text(flags)}")
    more = "MSG_MORE" in names
    taken = [run.stack.send(bytes(size), run.now, more)]
    if fd in run.nonblocking:
        return (taken[0], None) if taken[0] else (-1, "EAGAIN")

    def all_taken() -> int | None:
        if taken[0] < size:
            taken[0] += run.stack.send(bytes(size - taken[0]), run.now, more)
        return size if taken[0] >= size else None

    return all_taken


def _flag_names(flags: Arg) -> set[str]:
    """``MSG_MORE`` or ``O_RDWR|O_NONBLOCK`` (a set, as the parser reads it): the names."""
    if isinstance(flags, frozenset):
        return set(flags)
    return {str(flags)}


def _read(run: Run, event: Event, call: Syscall) -> Outcome:
    _fd(run, event, call)
    size = _int_arg(call.args, 2, 0)
    if len(call.args) > 3 and call.args[3] not in (0, Elided.ELIDED):
        run.unsupported(event, f"recv() flags {_text(call.args[3])}")

    def data() -> int | None:
        got = run.stack.recv(size, run.now)
        return None if got is None else len(got)

    return data


def _close(run: Run, event: Event, call: Syscall) -> Outcome:
    fd = _fd(run, event, call)
    kind = run.fds.pop(fd)
    if kind == "connection" or (kind == "socket" and run.stack.endpoint is not None):
        run.stack.close(run.now)
    elif kind == "listener" and not run.accepted and run.stack.state is not TcpState.LISTEN:
        run.stack.abort(run.now)
    return 0, None


def _shutdown(run: Run, event: Event, call: Syscall) -> Outcome:
    _fd(run, event, call)
    how = call.args[1] if len(call.args) > 1 else "SHUT_WR"
    if how in ("SHUT_RD", "SHUT_RDWR", 0, 2):
        run.stack.shutdown_read()
    if how in ("SHUT_WR", "SHUT_RDWR", 1, 2):
        run.stack.shutdown(run.now)
    return 0, None


def _fcntl(run: Run, event: Event, call: Syscall) -> Outcome:
    fd = _fd(run, event, call)
    command = call.args[1] if len(call.args) > 1 else None
    if command == "F_GETFL":
        return O_RDWR | (O_NONBLOCK if fd in run.nonblocking else 0), None
    if command != "F_SETFL":
        run.unsupported(event, f"fcntl {_text(command)}")
    if "O_NONBLOCK" in _flag_names(call.args[2] if len(call.args) > 2 else ""):
        run.nonblocking.add(fd)
    else:
        run.nonblocking.discard(fd)
    return 0, None


# setsockopt names -> the model's configuration field (booleans as 0/1)
SOCKET_OPTIONS = {
    "SO_RCVBUF": "rcvbuf",
    "SO_SNDBUF": "sndbuf",
    "TCP_NODELAY": "nodelay",
    "TCP_CORK": "cork",
    "TCP_MAXSEG": "mss",
    "SO_KEEPALIVE": "keepalive",
    "TCP_KEEPIDLE": "keepalive",
    "TCP_KEEPINTVL": "keepalive_interval",
    "TCP_KEEPCNT": "keepalive_probes",
}
_NO_EFFECT = {"SO_REUSEADDR", "SO_REUSEPORT"}


def _setsockopt(run: Run, event: Event, call: Syscall) -> Outcome:
    _fd(run, event, call)
    name = call.args[2] if len(call.args) > 2 else None
    if name in _NO_EFFECT:
        return 0, None
    if not isinstance(name, str) or name not in SOCKET_OPTIONS:
        run.unsupported(event, f"the socket option {_text(name)}")
    assert isinstance(name, str)
    value = _int_arg(call.args, 3, 0)
    target = SOCKET_OPTIONS[name]
    if target in ("rcvbuf", "mss") and run.stack.state not in NOT_OPENED:
        run.unsupported(event, f"{name} on a connection already open")
    flag = target in ("nodelay", "cork")
    changes: dict[str, object] = {target: bool(value) if flag else value}
    if target in ("rcvbuf", "sndbuf"):
        changes[target] = socket_buffer(PROFILES[run.profile], value)
    if target == "rcvbuf":  # the buffer is fixed; the scale is chosen for it (as Linux)
        changes.update(rcvbuf_max=None, wscale=None)
    if name == "TCP_KEEPIDLE":  # the idle time, kept for when SO_KEEPALIVE is (or is) on
        run.keepidle = value
        changes["keepalive"] = value if run.stack.config.keepalive is not None else None
    elif name == "SO_KEEPALIVE":
        changes["keepalive"] = run.keepidle if value else None
    run.stack.reconfigure(run.now, **changes)
    if (name == "TCP_NODELAY" and value) or (name == "TCP_CORK" and not value):
        # Linux pushes what waits; a partial segment too unless Nagle holds it after uncorking
        run.stack.push_pending(run.now, partial=run.stack.config.nodelay)
    return 0, None


def _getsockopt(run: Run, event: Event, call: Syscall) -> Outcome:
    _fd(run, event, call)
    name = call.args[2] if len(call.args) > 2 else None
    if name == "SO_ERROR":
        error = run.stack.error
        got = 0 if error is None else _ERRNO.get(error, -1)
        want = _int_arg(call.args, 3, got)
        if got != want:
            run.mismatch(event, f"SO_ERROR {want}", f"SO_ERROR {got} ({error})")
        return 0, None
    if name in SOCKET_OPTIONS:
        field = SOCKET_OPTIONS[name]
        value = run.stack.mss if field == "mss" else getattr(run.stack.config, field)
        want = _int_arg(call.args, 3, int(value))
        if int(value) != want:
            run.mismatch(event, f"{name} {want}", f"{name} {int(value)}")
        return 0, None
    run.unsupported(event, f"getsockopt {_text(name)}")
    return 0, None


_ERRNO = {"ECONNREFUSED": 111, "ECONNRESET": 104, "ETIMEDOUT": 110, "EPIPE": 32}

_SYSCALLS: dict[str, Callable[[Run, Event, Syscall], Outcome]] = {
    "socket": _socket,
    "bind": _ok,
    "listen": _listen,
    "accept": _accept,
    "connect": _connect,
    "write": _write,
    "send": _write,
    "sendmsg": _sendmsg,
    "sendto": _write,
    "read": _read,
    "recv": _read,
    "recvfrom": _read,
    "close": _close,
    "shutdown": _shutdown,
    "fcntl": _fcntl,
    "setsockopt": _setsockopt,
    "getsockopt": _getsockopt,
}


def trace_lines(steps: list[Step]) -> Iterator[str]:
    """The model's timeline beside the script: time, script line, what the model did."""
    for step in steps:
        yield f"{step.time_ns / NS:10.6f}  {step.line:4d}  {step.text:<48}  {step.outcome}"


__all__ = ["Step", "flag_bits", "run_script", "stack_config", "trace_lines"]
