# %% [markdown]
# # The anatomy of UDP and TCP headers, on real packets
#
# Every field of a TCP and a UDP header, read from captures headerkit made on this
# machine's loopback interface (`pcaps/`), with the checksum recomputed by hand.

# %%
import socket
import struct

import matplotlib.pyplot as plt

import headerkit
from headerkit.packet.summary import field_tree
from headerkit.plots import header_anatomy

packets = list(headerkit.decode_capture("../pcaps/tcp-hello-world-slow-reader.pcap"))
for pkt in packets[:4]:
    print(headerkit.packet.summary.summary_line(pkt, packets[0].timestamp_ns))

# %% [markdown]
# ## The SYN: every field
# The client's SYN opens the connection and announces its options: maximum segment size,
# SACK permitted, timestamps, window scale.

# %%
syn = packets[0]
print(field_tree(syn))

# %%
header_anatomy(syn)
plt.show()

# %% [markdown]
# ## The flags, bit by bit
# `tcp.flags` holds the 12 bits after the data offset: three reserved bits, then AE, CWR,
# ECE, URG, ACK, PSH, RST, SYN, FIN.

# %%
for pkt in packets[:3]:
    bits = f"{pkt.tcp.flags:012b}"
    print(bits, pkt.tcp.flag_names)

# %% [markdown]
# ## The checksum, by hand
# The TCP checksum is the one's complement of the one's complement sum of the pseudo-header
# (source, destination, zero, protocol 6, TCP length) and the whole segment, with the
# checksum field counted as zero.


# %%
def ones_complement_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def tcp_checksum_by_hand(pkt: headerkit.Packet) -> tuple[int, int]:
    ip, tcp = pkt.ip, pkt.tcp
    start = pkt.payload_offset - tcp.header_length
    segment = bytearray(pkt.data[start : pkt.payload_end])
    segment[16:18] = b"\0\0"
    pseudo = (
        socket.inet_aton(ip.src)
        + socket.inet_aton(ip.dst)
        + struct.pack("!BBH", 0, 6, len(segment))
    )
    return ~ones_complement_sum(pseudo + bytes(segment)) & 0xFFFF, ones_complement_sum(pseudo)


last = packets[-1]  # the final ACK, sent by a socket that had already closed
by_hand, pseudo_only = tcp_checksum_by_hand(last)
status = last.tcp.checksum_status.name
print(f"header says 0x{last.tcp.checksum:04x}, by hand 0x{by_hand:04x}: {status}")

# %% [markdown]
# The other segments on loopback carry only the pseudo-header sum: Linux leaves the rest to
# checksum offload, which never happens on `lo`. headerkit reports them as bad, as tshark
# does, and notes the offload:

# %%
by_hand, pseudo_only = tcp_checksum_by_hand(syn)
print(f"SYN: header 0x{syn.tcp.checksum:04x}, full sum 0x{by_hand:04x}")
print(f"     the pseudo-header alone sums to 0x{pseudo_only:04x}")
print(syn.notes)

# %% [markdown]
# ## UDP: eight bytes
# Source port, destination port, length (header + data, at least 8), checksum (optional on
# IPv4, where 0 means none; mandatory on IPv6).

# %%
datagram = next(iter(headerkit.decode_capture("../pcaps/udp-hello-world.pcap")))
print(field_tree(datagram))
header_anatomy(datagram, "udp")
plt.show()
