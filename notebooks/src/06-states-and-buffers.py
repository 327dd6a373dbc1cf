# %% [markdown]
# # States and buffers: where a connection is, and where its bytes are
#
# **The question:** between `connect()` and `close()`, which of TCP's 11 states is each side
# in, and where are the bytes between an application's `send()` and its peer's `recv()`?
#
# Two pictures answer it. The state diagram of RFC 9293 says what each side may do next; the
# socket buffers say where the bytes wait: `send()` only **copies** them into the kernel's
# send buffer (the application may reuse its own buffer at once), TCP sends them when the
# windows allow, they wait in the peer's receive buffer, and `recv()` copies them out.

# %%
import shutil
import subprocess
from pathlib import Path

import matplotlib.pyplot as plt
from exercises import check

from headerkit.captures.decoded import decode_capture
from headerkit.flows import FlowTable
from headerkit.plots import state_diagram
from headerkit.plots.ladder import capture_ladder, ladder_text, simulation_ladder
from headerkit.plots.simulation import socket_buffers, usable_window
from headerkit.sim import load_scenario, simulate, summary
from headerkit.tcp_states import TRANSITIONS, Event, TcpState


def show(lines, first=None):
    for line in list(lines)[:first]:
        print(line.rstrip())


# %% [markdown]
# ## The state diagram is a table
# headerkit keeps the diagram as one table: for each state, each event, where it leads and
# the segment sent on the way. The simulator and flow tracking both look transitions up in
# it, and the picture below is drawn from it (aborts, RSTs and give-ups, which lead anywhere
# to CLOSED, are a note rather than arrows).

# %%
print(f"{len(TcpState)} states, {sum(map(len, TRANSITIONS.values()))} transitions")
for event, rule in TRANSITIONS[TcpState.ESTABLISHED].items():
    print(f"ESTABLISHED --{event.value}--> {rule.to.value}  (sends: {rule.send or 'nothing'})")

# %%
state_diagram()
plt.show()

# %% [markdown]
# ## Opening: the three-way handshake as a ladder
# A ladder draws one slanted arrow per segment from the moment it leaves to the moment it
# arrives, and each side's state changes beside its timeline. The client's `connect()`
# returns once the SYN,ACK is in (one round trip); the server's `accept()` once the third
# segment, the ACK of its SYN, arrives.

# %%
handshake = simulate(load_scenario("handshake"))
show(ladder_text(simulation_ladder(handshake)), 12)

# %% [markdown]
# ## Closing, four ways
# Each side's path through the diagram, for the four closes the simulator ships. The usual
# close goes through FIN-WAIT-1/2 and TIME-WAIT on the side that closes first and CLOSE-WAIT
# and LAST-ACK on the other; when both close at once the FINs cross and both go through
# CLOSING; a half-close keeps reading after `shutdown(SHUT_WR)`; closing with unread data
# aborts with a RST.

# %%
closes = {}
for name in ("close", "close:simultaneous", "close:half-close", "close:reset"):
    result = simulate(load_scenario(name))
    closes[name] = result
    for side, path in zip("ab", result.paths, strict=True):
        states = [path[0].before.value, *(step.after.value for step in path)]
        print(f"{name:20} {side}: {' → '.join(states)}")

# %%
crossing = closes["close:simultaneous"]
state_diagram({"a": crossing.paths[0], "b": crossing.paths[1]}, title="FINs that cross")
plt.show()

# %% [markdown]
# ## The same from a real capture, and what tshark sees
# `pcaps/tcp-hello-world-slow-reader.pcap` was captured on loopback (the lecture's Hello /
# World with a slow reader). A capture only shows segments, so flow tracking follows each
# side through the same table, counting a FIN as received once its receiver acknowledges it.

# %%
capture = Path("..") / "pcaps" / "tcp-hello-world-slow-reader.pcap"
table = FlowTable()
for pkt in decode_capture(capture):
    table.add(pkt)
connection = table.tcp[0].connection
for side in (0, 1):
    path = connection.path(side)
    print(f"side {side}:", " → ".join([path[0].before.value, *(s.after.value for s in path)]))
show(ladder_text(capture_ladder(decode_capture(capture), 0)), 14)

# %% [markdown]
# tshark has no states, but its flags show the same story: the SYN, the SYN,ACK, the two FINs.

# %%
if shutil.which("tshark"):
    fields = ["frame.number", "tcp.srcport", "tcp.flags.str", "tcp.seq", "tcp.ack", "tcp.len"]
    command = ["tshark", "-r", str(capture), "-T", "fields"]
    for field in fields:
        command += ["-e", field]
    print(subprocess.run(command, capture_output=True, text=True, check=True).stdout)

# %% [markdown]
# ## Where the bytes are: send buffer, in flight, receive buffer
# `send:sendall` hands 200 000 bytes to a socket whose send buffer holds 16 KiB. Python's
# `sendall()` is a loop around `send()`: each `send()` takes what the buffer has room for
# and returns that count; the loop waits until ACKs free more. The grey area is what the
# application still holds; the blue ones the kernel's send buffer (unsent, then in flight).

# %%
sendall = simulate(load_scenario("send:sendall"))
steps = [e.text for e in sendall.entries if e.text.startswith("sendall: send(")]
print(len(steps), "send() calls inside sendall():", *steps[:4], "...", sep="\n  ")
socket_buffers(sendall, 0)
plt.show()

# %% [markdown]
# A **non-blocking** `send()` (`MSG_DONTWAIT`) does not wait: it takes what fits and returns
# that count. An application that ignores the return value loses the rest.

# %%
partial = simulate(load_scenario("send:partial"))
show(summary(partial), 3)

# %% [markdown]
# On the receiving side the bytes wait in the receive buffer until `recv()` copies them out
# (red bars below the axis). Its free space is the window the receiver advertises; the
# sender may have at most `min(cwnd, rwnd)` bytes in flight, and which of the two binds
# changes during a transfer:

# %%
switch = simulate(load_scenario("window:switch"))
fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 8))
usable_window(switch, ax=top)
socket_buffers(switch, 1, ax=bottom)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The echo, and why the client needs MSG_WAITALL
# The lecture's echo client sends a message, then reads the echo with
# `recv(len, MSG_WAITALL)`. Our echo server reads with `recv(4)` and sends back each piece
# after a pause, so the echo of "Hello" comes back as "Hell" and "o". A plain `recv(5)`
# returns what is there: a short read.

# %%
for name in ("echo", "echo:no-waitall"):
    result = simulate(load_scenario(name))
    print(f"{name:16} server sent {result.streams[1].sends}, client read {result.streams[0].recvs}")

# %% [markdown]
# ## Exercises
# 1. In `close:simultaneous`, which state does each side pass through between FIN-WAIT-1 and
#    TIME-WAIT?
# 2. In `send:partial`, how many bytes did the non-blocking `send()` of 200 000 bytes take?
# 3. In `echo:no-waitall`, what does the client's `recv(5)` return?

# %%
answer_1 = None
answer_2 = None
answer_3 = None

between = [step.after.value for step in crossing.paths[0]]
between = between[between.index("FIN-WAIT-1") + 1 : between.index("TIME-WAIT")]
check("1. between FIN-WAIT-1 and TIME-WAIT", answer_1, between)
check("2. bytes taken", answer_2, partial.streams[0].short_sends[0][0])
no_waitall = simulate(load_scenario("echo:no-waitall"))
check("3. the short read", answer_3, no_waitall.streams[0].recvs[0])

# %% [markdown]
# The notebook checks its answers against the rules: crossing FINs lead through CLOSING (the
# table's FIN-WAIT-1 --FIN--> rule), a non-blocking send takes exactly the free send buffer,
# and a plain recv() returns the first piece of the echo.

# %%
assert between == [TRANSITIONS[TcpState.FIN_WAIT_1][Event.RCV_FIN].to.value]
assert partial.streams[0].short_sends[0][0] == load_scenario("send:partial").a.tcp.sndbuf
assert no_waitall.streams[0].recvs[0] == no_waitall.streams[1].sends[0] == b"Hell"
print("the computed answers agree with the rules")
