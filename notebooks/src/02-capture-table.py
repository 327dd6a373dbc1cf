# %% [markdown]
# # A capture as a table, and questions to ask it
#
# `headerkit.read_table` turns a capture into a pandas DataFrame: one row per packet, columns
# named as tshark names them. Here a simulated bulk transfer (segments built by headerkit's
# schemas) and the repository's crafted captures.

# %%
import tempfile
from pathlib import Path

import headerkit
from headerkit.sim import load_scenario, simulate
from headerkit.sim.pcap import write_pcap

work = Path(tempfile.mkdtemp())
bulk = work / "bulk.pcap"
write_pcap(simulate(load_scenario("bulk")), bulk)
df = headerkit.read_table(bulk)
df[
    [
        "frame.number",
        "ip.src",
        "tcp.srcport",
        "tcp.flags.str",
        "tcp.seq_raw",
        "tcp.len",
        "tcp.window_size_value",
    ]
].head()

# %%
df.dtypes.head(12)

# %% [markdown]
# ## Which options are used, and by whom?

# %%
options = df.explode("tcp.option_kind")["tcp.option_kind"].dropna().astype(int)
options.map(
    {0: "EOL", 1: "NOP", 2: "MSS", 3: "WS", 4: "SACK_PERM", 5: "SACK", 8: "TS"}
).value_counts()

# %%
syns = df[df["tcp.flags.syn"]]
syns[["ip.src", "tcp.flags.str", "tcp.options.mss_val", "tcp.options.wscale.shift"]]

# %% [markdown]
# ## Window scaling
# The window field is 16 bits; the shift each side announces in its SYN multiplies it.
# Without the handshake the scale is unknown, so a table should say so rather than guess.

# %%
shift = dict(
    zip(syns["ip.src"], syns["tcp.options.wscale.shift"].fillna(0).astype(int), strict=True)
)
data = df[~df["tcp.flags.syn"]].copy()
data["window"] = data["tcp.window_size_value"].astype(int) * data["ip.src"].map(
    lambda s: 2 ** shift[s]
)
data.groupby("ip.src")["window"].describe()[["min", "max"]]

# %% [markdown]
# ## Bytes per direction

# %%
df.groupby(["ip.src", "ip.dst"])["tcp.len"].agg(["count", "sum"])

# %% [markdown]
# ## Malformed packets
# `crafted-broken.pcap` holds one packet per kind of damage. Each keeps its row; the
# `problems` column says what is wrong, and `malformed` marks what tshark marks malformed.

# %%
broken = headerkit.read_table("../pcaps/crafted-broken.pcap")
broken["problem"] = broken["problems"].map(lambda p: "; ".join(p) if p is not None else "")
broken[["frame.number", "tcp.checksum.status", "udp.checksum.status", "malformed", "problem"]]
