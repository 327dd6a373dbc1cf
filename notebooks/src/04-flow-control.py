# %% [markdown]
# # Flow control: the receive window, zero window and probes
#
# **The question:** what stops a fast sender from overrunning a slow reader, and what happens
# when the reader's buffer is full?
#
# The receiver advertises its free buffer as the window (`Win`) in every segment it sends. A
# sender may have at most `min(cwnd, rwnd)` bytes unacknowledged: `rwnd` is the window its
# peer advertised, `cwnd` its own congestion window. When the reader is slower than the
# writer the buffer fills, the window drops to 0, the sender stops and probes, and a window
# update reopens it.

# %%
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from exercises import check

import headerkit
from headerkit.flows import annotate
from headerkit.interop import craft
from headerkit.packet.summary import summary_line
from headerkit.plots import flow_control
from headerkit.sim import load_scenario, simulate, timeline
from headerkit.sim.pcap import write_pcap
from headerkit.sim.trace import Kind

# %% [markdown]
# ## One exchange, by hand
# The lecture's example: host A sends 1000 bytes starting at sequence number 100
# (`[SEQ=100, LEN=1000, ACK=0, Win=rwnd]`); host B answers `[SEQ=200, ACK=1100, Win=8192]`:
# it expects byte 1100 next (100 + 1000) and has 8192 bytes of buffer free. We craft both
# segments and decode them.

# %%
a_to_b = craft.tcp(sport=40000, dport=80, seq=100, ack=0, flags="P", payload=bytes(1000))
b_to_a = craft.tcp(
    src="10.0.0.2",
    dst="10.0.0.1",
    sport=80,
    dport=40000,
    seq=200,
    ack=1100,
    flags="A",
    window=8192,
)
for segment in (a_to_b, b_to_a):
    print(summary_line(headerkit.decode(segment.data, headerkit.LinkType.RAW)))

# %% [markdown]
# ## A slow reader, simulated
# The `zero-window` scenario: a 4 KiB receive buffer, a writer with 16,000 bytes, a reader
# that takes 1000 bytes every 0.3 s. Watch the window (`win` on b's lines) fall to 0, the
# writer's probes (`zero-window probe`), and the window updates.

# %%
result = simulate(load_scenario("zero-window"))
print("\n".join(list(timeline(result))[:32]))

# %%
flow_control(result)
plt.show()

# %% [markdown]
# ## What tshark says about the simulated capture
# Every segment is built by headerkit's schemas, so the simulation is a capture like any
# other: headerkit's flow analysis and tshark's label the same segments.

# %%
pcap = Path(tempfile.mkdtemp()) / "zero-window.pcap"
write_pcap(result, pcap)
flags = ("zero_window", "zero_window_probe", "window_update", "window_full")
counts = dict.fromkeys(flags, 0)
first_zero = start = None
for pkt, fields in annotate(headerkit.decode_capture(pcap)):
    start = pkt.timestamp_ns if start is None else start
    for flag in flags:
        if fields.get(f"tcp.analysis.{flag}"):
            counts[flag] += 1
    if fields.get("tcp.analysis.zero_window") and first_zero is None:
        first_zero = round((pkt.timestamp_ns - start) / 1e9, 6)
print("headerkit:", counts)

if shutil.which("tshark"):
    fields = ["frame.number", *(f"tcp.analysis.{f}" for f in flags)]
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", *(a for f in fields for a in ("-e", f))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    tshark_counts = {f: sum(bool(r[i + 1]) for r in rows) for i, f in enumerate(flags)}
    print("tshark:   ", tshark_counts)
else:
    tshark_counts = counts
    print("tshark is not installed here")

# %% [markdown]
# ## Exercises
# 1. In the exchange by hand, host B has received bytes 100 to 1099. Which acknowledgment
#    number does it send if 500 more bytes arrive next, starting at 1100?
# 2. In the capture, at what time (in seconds since its first packet) does a zero window
#    first show? (The capture sees packets where they arrive, at the writer's end.)
# 3. How many zero-window probes does the writer send in all?

# %%
answer_1 = None
answer_2 = None
answer_3 = None

check("1. the next ack", answer_1, 1100 + 500)
check("2. first zero window (s)", answer_2, first_zero)
check("3. zero-window probes", answer_3, counts["zero_window_probe"])

# %% [markdown]
# The notebook checks its answers with tshark, which analysed the same capture on its own, and
# with the simulator's own record of when the first window of 0 reached the writer.

# %%
assert tshark_counts == counts, (tshark_counts, counts)
arrivals = [e for e in result.entries if e.kind is Kind.ARRIVE and e.side == 0]
zero = next(e for e in arrivals if e.packet.window == 0)
assert first_zero == round(zero.time / 1e9, 6)
print("headerkit and tshark agree on every flag count")
