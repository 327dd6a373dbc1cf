# %% [markdown]
# # TCP keeps no message boundaries; UDP keeps every datagram
#
# **The question:** the sender calls `send("Hello")` and then `send("World")`. What does the
# receiver's `recv()` return?
#
# With TCP it depends on when the receiver reads and how much it asks for, never on how the
# sender cut the stream: `recv(10)` may return `"HelloWorld"`, and `recv(3)` then `recv(7)`
# return `"Hel"` and `"loWorld"`. With UDP each `recvfrom()` returns one whole datagram. We
# see it in the simulator, on real sockets, and then restore the boundaries with a framer.

# %%
import os

import matplotlib.pyplot as plt
from exercises import check

from headerkit.framing import DelimiterFramer, LengthPrefixFramer
from headerkit.interop.experiment import boundaries as experiment
from headerkit.plots import boundaries, simulation_boundaries
from headerkit.sim import load_scenario, simulate, summary

# %% [markdown]
# ## In the simulator
# The same two sends, read four ways.

# %%
for name in ("hello-world", "hello-world:recv10", "hello-world:recv3-7", "hello-world:slow-reader"):
    result = simulate(load_scenario(name))
    print(name, "→", result.streams[1].recvs)

# %%
slow = simulate(load_scenario("hello-world:slow-reader"))
print("\n".join(summary(slow)))
simulation_boundaries(slow)
plt.show()

# %% [markdown]
# ## On real sockets
# A client and a server on 127.0.0.1; the server sleeps before reading, so both sends wait
# in its receive buffer. (The wire is captured when this runs as root.)

# %%
capture = os.geteuid() == 0
run = experiment("tcp", recv_sizes=[4], server_delay=1.0, capture=capture)
print("send():", run.sends)
print("recv():", run.recvs)
if capture:
    print("segments on the wire:", run.wire_payloads)
boundaries(
    run.sends,
    run.recvs,
    [len(p) for p in run.wire_payloads] if capture else (),
    title="real loopback, slow reader",
)
plt.show()

# %%
udp = experiment("udp", server_delay=0.5, capture=False)
print("sendto():", udp.sends, " recvfrom():", udp.recvs)

# %% [markdown]
# ## Restoring the boundaries: framers
# The application defines its messages: a delimiter, or a length prefix. A framer takes
# whatever chunks `recv()` returns and gives back whole messages.

# %%
lines = DelimiterFramer(b"\n")
for chunk in (b"Hel", b"lo\nWo", b"rld\n"):
    print(repr(chunk), "→", lines.feed(chunk))

prefixed = LengthPrefixFramer(width=2)
stream = prefixed.encode(b"Hello") + prefixed.encode(b"World")
print(stream)
print([prefixed.feed(stream[i : i + 3]) for i in range(0, len(stream), 3)])

# %%
framed = experiment(
    "tcp", [b"Hello", b"World"], recv_sizes=[4], server_delay=1.0, frame="lines", capture=False
)
print("recv():", framed.recvs, "→ messages:", framed.messages)

# %% [markdown]
# ## Exercises
# 1. A slow reader calls `recv(3)` and then `recv(7)` after both sends have arrived. What do
#    the two calls return? (A list of two byte strings.)
# 2. With UDP, the reader calls `recvfrom(3)` on the datagram `"Hello"`. What does it get, and
#    what happens to `"lo"`?  Answer with what the call returns.
# 3. A 2-byte length prefix frames `"Hello"`. Which bytes go on the wire?

# %%
answer_1 = None
answer_2 = None
answer_3 = None

slow_reader = experiment("tcp", recv_sizes=[3, 7], server_delay=0.5, capture=False)
short = experiment("udp", recv_sizes=[3], capture=False, gap=0.0)
framed_hello = LengthPrefixFramer(width=2).encode(b"Hello")
check("1. recv(3), recv(7)", answer_1, slow_reader.recvs)
check("2. recvfrom(3)", answer_2, short.recvs[0])
check("3. framed Hello", answer_3, framed_hello)

# %% [markdown]
# The notebook checks its answers another way: a slow reader's calls cut the one stream
# "HelloWorld" at 3 and at 3 + 7 bytes; the UDP reader lost the rest of each datagram; and the
# framer reads back what it wrote.

# %%
stream = b"".join(slow_reader.sends)
assert slow_reader.recvs == [stream[:3], stream[3:10]] == [b"Hel", b"loWorld"]
assert short.recvs == [b"Hel", b"Wor"]  # "lo" and "ld" are gone: UDP never splits a datagram
assert LengthPrefixFramer(width=2).feed(framed_hello) == [b"Hello"]
print("simulator, real sockets and framer agree")
