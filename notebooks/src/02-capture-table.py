# %% [markdown]
# # A capture as a table, and questions to ask it
#
# **The question:** once a capture is a table, which questions about TCP become one line of
# pandas? Who sent how many bytes, which options each side offered, how large the windows
# really were once scaled, and which packets are broken.
#
# `headerkit.read_table` turns a capture into a pandas DataFrame: one row per packet, columns
# named as tshark names them. Here a simulated bulk transfer (segments built by headerkit's
# schemas) and the repository's crafted captures.

# %%
import tempfile
from pathlib import Path

from exercises import check

import headerkit
from headerkit.schemas.tcp_options import OPTION_NAMES
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
options.map(OPTION_NAMES).value_counts()

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

# %% [markdown]
# ## Exercises
# 1. How many data bytes did the bulk transfer's sender send, counting every segment
#    (retransmissions included)?
# 2. How many segments carried no data at all (pure ACKs, SYNs, FINs)?
# 3. In `crafted-broken.pcap`, how many packets does tshark's rule mark *malformed*?

# %%
answer_1 = None
answer_2 = None
answer_3 = None

sender = syns[~syns["tcp.flags.ack"]]["ip.src"].iloc[0]
sent_bytes = int(df[df["ip.src"] == sender]["tcp.len"].sum())
empty = int((df["tcp.len"] == 0).sum())
malformed = int(broken["malformed"].sum())
check("1. data bytes sent", answer_1, sent_bytes)
check("2. segments without data", answer_2, empty)
check("3. malformed packets", answer_3, malformed)

# %% [markdown]
# The notebook checks its answers the slow way, packet by packet with the per-packet decoder.

# %%
packets = list(headerkit.decode_capture(bulk))
assert sent_bytes == sum(p.tcp.payload_length for p in packets if p.ip.src == sender)
assert empty == sum(p.tcp.payload_length == 0 for p in packets)
assert malformed == sum(
    p.malformed for p in headerkit.decode_capture("../pcaps/crafted-broken.pcap")
)
print("the table and the per-packet decoder agree")
