# %% [markdown]
# # The anatomy of UDP and TCP headers, on real packets
#
# **The question:** what does a transport header carry, bit by bit, and why is UDP's 8 bytes
# while TCP's is 20 to 60?
#
# We read every field of a TCP and a UDP header from captures headerkit made on this
# machine's loopback interface (`pcaps/`): the lecture's "Hello" and "World" sent over TCP
# and over UDP. We recompute the checksum by hand, and end with exercises that check
# themselves.

# %%
import socket
import struct

import matplotlib.pyplot as plt
from exercises import check

import headerkit
from headerkit.packet.summary import field_tree
from headerkit.plots import header_anatomy
from headerkit.schemas.tcp import WINDOW_SCALE

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

# %% [markdown]
# ## Why UDP is small and TCP is not
# UDP's header says only who (ports), how much (length) and whether it arrived intact
# (checksum): each datagram stands alone. TCP's must also say *where in the stream* a segment
# belongs (sequence number), what has arrived (acknowledgment number), how much more may be
# sent (window), what the segment means (flags), and what the two ends agreed on (options).

# %%
udp_bytes = datagram.udp.length - datagram.udp.payload_length
tcp_bytes = [p.tcp.header_length for p in packets]
print(f"UDP header: {udp_bytes} bytes; TCP headers in this capture: {sorted(set(tcp_bytes))}")

# %% [markdown]
# ## Exercises
# Write your answer in place of `None` and run the cell.
#
# 1. How many bytes of the SYN's TCP header are options?
# 2. The SYN announces a window scale. What is the largest receive window it allows, in
#    bytes (the 16-bit window field shifted left by the scale)?
# 3. The UDP datagram's length field: how many bytes of data does it carry?

# %%
answer_1 = None
answer_2 = None
answer_3 = None

options_bytes = syn.tcp.header_length - 20
wscale = syn.tcp.option(WINDOW_SCALE).value
largest_window = 0xFFFF << wscale
udp_data = datagram.udp.length - 8
check("1. option bytes in the SYN", answer_1, options_bytes)
check("2. largest window", answer_2, largest_window)
check("3. UDP data bytes", answer_3, udp_data)

# %% [markdown]
# The notebook checks its own answers against the raw bytes: the data offset is the top
# nibble of the TCP header's 13th byte, the window-scale option is kind 3, and the UDP length
# covers the header and the payload.

# %%
tcp_start = syn.payload_offset - syn.tcp.header_length
assert (syn.data[tcp_start + 12] >> 4) * 4 - 20 == options_bytes
raw = syn.data[tcp_start + 20 : syn.payload_offset]
i = 0
while raw[i] != 3:
    i += 1 if raw[i] in (0, 1) else raw[i + 1]
assert 0xFFFF << raw[i + 2] == largest_window
assert len(datagram.data) - datagram.payload_offset == udp_data == len(b"Hello")
print("the computed answers agree with the raw bytes")
