# %% [markdown]
# # Crafting packets, good and broken, and checking them with tshark
#
# `headerkit.interop.craft` computes every derived field (lengths, data offset, padding, checksums)
# unless you give it, so a broken packet is one argument away.

# %%
import shutil
import subprocess
import tempfile
from pathlib import Path

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
