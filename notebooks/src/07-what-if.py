# %% [markdown]
# # What if? Replaying a capture in the model
#
# **The question:** a capture shows a reader that fell behind: the window filled, the sender
# stopped at zero windows. How large a receive buffer would have kept the data flowing?
#
# tshark can label every packet of a capture, but it cannot say what would have happened
# with other settings. headerkit's replay infers a scenario from the capture (path delay,
# MSS, buffers, the applications' calls), runs it in the simulator, and can run it again with
# one setting changed. First we check the replay against the capture; then we ask the
# question.

# %%
import tempfile
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
from exercises import check

from headerkit.captures.decoded import decode_capture
from headerkit.plots.replay import replay_time_sequence
from headerkit.replay import replay, stream_segments, to_toml
from headerkit.replay.compare import outline
from headerkit.sim import load_scenario, simulate
from headerkit.sim.pcap import write_pcap

# %% [markdown]
# ## The capture
# The capture is the zero-window story: a writer with 16,000 bytes, a reader with a 4 KiB
# receive buffer that reads 1000 bytes every 0.3 s, captured next to the writer. (Any pcap
# works the same way: `headerkit replay FILE --stream N`.)

# %%
capture = Path(tempfile.mkdtemp()) / "slow-reader.pcap"
write_pcap(simulate(load_scenario("zero-window")), capture)
run = replay(capture, stream=0)
print("\n".join(run.table()))

# %% [markdown]
# ## What the replay inferred
# Only the capture was read: the delay from the handshake, the receive buffer from the
# largest window the reader advertised, its reads from each window update.

# %%
print(to_toml(run.inference.scenario)[:1200])

# %%
replay_time_sequence({"capture": run.capture, "replay": run.model})
plt.show()

# %% [markdown]
# ## The what-if: larger receive buffers
# The same writer and the same reader, with the reader's buffer doubled again and again.

# %%
zero_windows = {}
for rcvbuf in (4096, 8192, 16384, 32768):
    trial = replay(capture, stream=0, settings={"b.rcvbuf": str(rcvbuf)})
    zero_windows[rcvbuf] = outline(trial.what_if).flags["zero_window"]
print(zero_windows)

# %% [markdown]
# ## A real capture
# `pcaps/tcp-partial-send.pcap` was captured on this machine's loopback: a writer sending
# 60,000 bytes into a reader with `SO_RCVBUF` 4096 that waits 0.3 s before reading. The same
# question: what would a larger buffer have changed? (Linux is not the textbook model: it
# doubles `SO_RCVBUF`, probes a zero window differently and uses a 64 KiB MSS on loopback, so
# the replay is close rather than exact; the table shows how close.)

# %%
real = replay("../pcaps/tcp-partial-send.pcap", stream=0, settings={"b.rcvbuf": "262144"})
print("\n".join(real.table()))

# %% [markdown]
# ## Exercises
# 1. How many zero windows does the capture show?
# 2. What is the smallest receive buffer among 4, 8, 16 and 32 KiB with no zero window?
# 3. The writer sends 16,000 bytes. Why is a buffer that holds them all certain to work,
#    whatever the reader's pace? Answer with the smallest power of two that holds them.

# %%
answer_1 = None
answer_2 = None
answer_3 = None

smallest = min(size for size, count in zero_windows.items() if count == 0)
sent = outline(run.capture).delivered[-1][1] - 1  # the FIN takes one sequence number
holds_everything = 1 << (sent - 1).bit_length()
check("1. zero windows in the capture", answer_1, outline(run.capture).flags["zero_window"])
check("2. smallest buffer without zero windows", answer_2, smallest)
check("3. a buffer that holds everything", answer_3, holds_everything)

# %% [markdown]
# The notebook checks its answers: the replay gives the capture's flags exactly, and the
# smallest buffer found is also enough in a fresh simulation of the original scenario with
# only that buffer changed, while half of it is not.


# %%
def zero_windows_with(rcvbuf: int) -> int:
    original = load_scenario("zero-window")
    tcp = replace(original.b.tcp, rcvbuf=rcvbuf)
    path = Path(tempfile.mkdtemp()) / f"rcvbuf-{rcvbuf}.pcap"
    write_pcap(simulate(replace(original, b=replace(original.b, tcp=tcp))), path)
    return outline(stream_segments(decode_capture(path), 0)).flags["zero_window"]


assert outline(run.model).flags == outline(run.capture).flags
assert zero_windows_with(smallest) == 0 and zero_windows_with(smallest // 2) > 0
assert holds_everything >= sent > holds_everything // 2
print("the replay's answers hold in the original scenario")
