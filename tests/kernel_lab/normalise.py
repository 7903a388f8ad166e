#!/usr/bin/env python3
"""Normalises `ip -s xfrm state` / `ip -s xfrm policy` output so that two tunnels with the same
configuration compare equal: SPIs, keys, byte/packet counters, timestamps, the soft-lifetime
jitter and the kernel-assigned policy index are masked; per-socket bypass policies (they belong
to the IKE daemon's sockets, not to the CHILD_SA) are dropped; entries are sorted.

usage: normalise.py state|policy|socket < dump > normalised   (socket: only the bypass policies)
"""
import re
import sys


def blocks(text):
    """Splits a dump into entries (each starts with an unindented 'src ' line)."""
    out, cur = [], []
    for line in text.splitlines():
        if line.startswith("src ") and cur:
            out.append(cur)
            cur = []
        if line.strip():
            cur.append(line.rstrip())
    if cur:
        out.append(cur)
    return out


def norm_state(lines):
    out = []
    for line in lines:
        line = re.sub(r"spi 0x[0-9a-f]+(\(\d+\))?", "spi SPI", line)
        line = re.sub(r"0x[0-9a-f]{16,}", "KEY", line)
        line = re.sub(r"soft \d+\(sec\), hard", "soft SOFT(sec), hard", line) \
            if "expire add:" in line else line
        line = re.sub(r"^(\s*)\d+\(bytes\), \d+\(packets\)", r"\1N(bytes), N(packets)", line)
        line = re.sub(r"add \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "add TIME", line)
        line = re.sub(r"use \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "use TIME", line)
        line = re.sub(r"replay \d+ failed \d+", "replay N failed N", line)
        line = re.sub(r"seq 0x[0-9a-f]+, oseq 0x[0-9a-f]+", "seq N, oseq N", line)
        line = re.sub(r"bitmap 0x[0-9a-f]+", "bitmap N", line)
        line = re.sub(r"seq-hi 0x[0-9a-f]+, seq 0x[0-9a-f]+, oseq-hi 0x[0-9a-f]+, oseq 0x[0-9a-f]+",
                      "seq-hi N, seq N, oseq-hi N, oseq N", line)
        line = re.sub(r"^(\s+)[0-9a-f]{8}( [0-9a-f]{8})*\s*$", r"\1BITMAP", line)  # ESN bitmap
        out.append(line)
    return out


def norm_policy(lines):
    if any(" socket " in l or l.strip().startswith("socket ") for l in lines):
        return None
    out = []
    for line in lines:
        line = re.sub(r"spi 0x[0-9a-f]+(\(\d+\))?", "spi SPI", line)
        line = re.sub(r"add \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "add TIME", line)
        line = re.sub(r"use \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "use TIME", line)
        line = re.sub(r" index \d+ ", " index N ", line)
        out.append(line)
    return out


def norm_socket(lines):
    """Only the per-socket bypass policies, with index and times masked."""
    if not any(l.strip().startswith("socket ") for l in lines):
        return None
    out = []
    for line in lines:
        line = re.sub(r" index \d+ ", " index N ", line)
        line = re.sub(r"add \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "add TIME", line)
        line = re.sub(r"use (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|-)", "use TIME", line)
        out.append(line)
    return out


def main():
    kind = sys.argv[1]
    norm = {"state": norm_state, "policy": norm_policy, "socket": norm_socket}[kind]
    entries = [n for n in (norm(b) for b in blocks(sys.stdin.read())) if n is not None]
    for entry in sorted("\n".join(e) for e in entries):
        print(entry)
        print("--")


if __name__ == "__main__":
    main()
