# %% [markdown]
# # Crafting packets, good and broken, and checking them with tshark
#
# **The question:** which header fields does a stack compute for you, and what does a
# receiver (or tshark) say when one of them is wrong?
#
# `headerkit.interop.craft` computes every derived field (lengths, data offset, padding,
# checksums) unless you give it, so a broken packet is one argument away. We build a correct
# SYN, four broken packets, and let tshark judge them.

# %%
import shutil
import subprocess
import tempfile
from pathlib import Path

from exercises import check

from headerkit import LinkType, craft, decode
from headerkit.packet.summary import summary_line

good = craft.tcp(
    sport=40000, dport=80, flags="S", mss=1460, wscale=7, sack_perm=True, timestamps=(1, 0)
)
broken = [
    craft.tcp(sport=40000, dport=80, flags="PA", payload=b"hi", checksum=0x1234),
    craft.tcp(sport=40000, dport=80, flags="A", data_offset=4),
    craft.tcp(sport=40000, dport=80, flags="A", options_raw=b"\x02\x00\x00\x00"),
    craft.udp(sport=53, dport=5353, payload=b"x", length=7),
]
for pkt in [good, *broken]:
    print(summary_line(decode(pkt.data, LinkType.RAW)))

# %% [markdown]
# ## What tshark says

# %%
path = Path(tempfile.mkdtemp()) / "crafted.pcap"
craft.write(path, [good, *broken])
if shutil.which("tshark"):
    out = subprocess.run(
        [
            "tshark",
            "-r",
            str(path),
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "_ws.expert.message",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    print(out)

# %% [markdown]
# ## Try it: set the fields, watch the bytes and the checksum change
# (Interactive in Jupyter with ipywidgets; below, one setting is shown.)


# %%
def show(window: int = 65535, flags: str = "S", mss: int = 1460) -> None:
    pkt = craft.tcp(sport=40000, dport=80, flags=flags, window=window, mss=mss)
    tcp = decode(pkt.data, LinkType.RAW).tcp
    print(pkt.data[20:].hex(" "))
    status = tcp.checksum_status.name
    print(f"window={tcp.window} flags={tcp.flag_names} checksum=0x{tcp.checksum:04x} ({status})")


try:
    import ipywidgets

    ipywidgets.interact(
        show, window=(0, 65535, 1024), flags=["S", "SA", "A", "PA", "FA", "R"], mss=(536, 9000, 4)
    )
except ImportError:
    show()

# %% [markdown]
# ## Exercises
# 1. The correct SYN carries MSS, SACK permitted, timestamps and a window scale. What data
#    offset (in 32-bit words) does craft compute for it?
# 2. A UDP datagram with 5 bytes of data ("Hello"): what length field does craft compute?
# 3. The first broken packet carries checksum 0x1234. Which checksum should it carry?

# %%
answer_1 = None
answer_2 = None
answer_3 = None

syn = decode(good.data, LinkType.RAW).tcp
hello = decode(craft.udp(sport=40000, dport=53, payload=b"Hello").data, LinkType.RAW).udp
check("1. data offset", answer_1, syn.data_offset)
check("2. UDP length", answer_2, hello.length)
fixed = decode(craft.tcp(sport=40000, dport=80, flags="PA", payload=b"hi").data, LinkType.RAW)
check("3. the right checksum", answer_3, fixed.tcp.checksum)

# %% [markdown]
# The notebook checks its answers: the data offset covers the 20 fixed bytes and the options
# (MSS 4 bytes, SACK permitted 2, timestamps 10, window scale 3) padded to a multiple of 4;
# the UDP length covers the 8-byte header and the data; and the broken packet, given the
# right checksum, verifies.

# %%
option_bytes = 4 + 2 + 10 + 3
assert syn.data_offset == (20 + -(-option_bytes // 4) * 4) // 4
assert hello.length == 8 + len(b"Hello")
repaired = craft.tcp(sport=40000, dport=80, flags="PA", payload=b"hi", checksum=fixed.tcp.checksum)
assert decode(repaired.data, LinkType.RAW).tcp.checksum_status.name == "GOOD"
print("the computed answers agree with the header rules")
