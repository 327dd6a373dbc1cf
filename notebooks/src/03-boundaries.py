# %% [markdown]
# # TCP keeps no message boundaries; UDP keeps every datagram
#
# Two `send()` calls, "Hello" and "World". What comes back from `recv()` depends on when the
# receiver reads and how much it asks for, never on how the sender cut the stream.

# %%
import os

import matplotlib.pyplot as plt

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
