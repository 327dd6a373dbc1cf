# %% [markdown]
# # Flow control: the receive window, zero window and probes
#
# A sender may have at most `min(cwnd, rwnd)` bytes unacknowledged. The receiver advertises
# its free buffer as the window; when the reader is slower than the writer the buffer fills,
# the window drops to 0, the sender stops and probes, and a window update reopens it.

# %%
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from headerkit.plots import flow_control
from headerkit.sim import load_scenario, simulate, timeline
from headerkit.sim.pcap import write_pcap

result = simulate(load_scenario("zero-window"))
print("\n".join(list(timeline(result))[:30]))

# %%
flow_control(result)
plt.show()

# %% [markdown]
# ## What tshark says about the simulated capture
# Every segment is built by headerkit's schemas, so the simulation is a capture like any
# other. tshark's analysis labels the same segments as the simulator does.

# %%
pcap = Path(tempfile.mkdtemp()) / "zero-window.pcap"
write_pcap(result, pcap)
if shutil.which("tshark"):
    fields = [
        "frame.number",
        "tcp.window_size_value",
        "tcp.analysis.zero_window",
        "tcp.analysis.zero_window_probe",
        "tcp.analysis.window_update",
    ]
    out = subprocess.run(
        [
            "tshark",
            "-r",
            str(pcap),
            "-T",
            "fields",
            *(a for f in fields for a in ("-e", f)),
            "-Y",
            "tcp.analysis.flags",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    print("\t".join(f.split(".")[-1] for f in fields))
    print(out)
else:
    print("tshark is not installed here")
