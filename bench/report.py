#!/usr/bin/env python3
"""Prints the issue-8 table from the JSON files bench/run wrote and merges them into results.json."""
import json
import os
import platform
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_all(out, names):
    """The files of `names` in `out` that exist and parse, in that order."""
    return [r for r in (load(os.path.join(out, n)) for n in names) if r]


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Linux {platform.release()}, load {os.getloadavg()[0]:.1f}"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build-bench/results"
    merged = {"machine": machine()}
    print(f"\nmachine: {merged['machine']}")
    a = load(os.path.join(out, "a-engine.json"))
    if a:
        merged["a"] = a
        print("\n(a) responder engine CPU per handshake (IKE_SA_INIT + IKE_AUTH + DELETE) vs crypto floor")
        print(f"{'group':10} {'engine us':>10} {'floor us':>9} {'ratio':>6} {'hs/s/core':>10}  target: <= 2x floor")
        for g in a["groups"]:
            us = g["responder_cpu_us_per_handshake"]
            print(f"{g['group']:10} {us:10.1f} {g['floor_cpu_us']:9.1f} {g['ratio_cpu']:6.2f} "
                  f"{1e6 / us if us else 0:10.0f}")
    k = load(os.path.join(out, "a-engine-keep.json"))
    if k:
        merged["a_keep"] = k
        g = k["groups"][0]
        segs = ", ".join(f"{s['handshakes']}: {s['responder_cpu_us']:.0f}" for s in g["segments"])
        print(f"(a) x25519 while holding SAs (SAs held: us per handshake): {segs}")
    rows = load_all(out, [f"{d}-x25519.json" for d in ("charon", "minivpnd", "standin")])
    if rows:
        merged["b_c"] = rows
        print("\n(b) responder CPU per handshake (setup + DELETE), (c) RSS per established tunnel")
        print(f"{'daemon':9} {'us/hs':>7} {'hs/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'B/tunnel@1k':>12} "
              f"{'B/tunnel@10k':>13} {'fail':>5}")
        for r in rows:
            mem = {m.get("tunnels_asked", m.get("tunnels")): m for m in r["memory"]}
            m1 = mem.get(1000, {}).get("bytes_per_tunnel", 0)
            m10 = mem.get(10000, {}).get("bytes_per_tunnel", 0)
            print(f"{r['daemon']:9} {r['responder_cpu_us_per_handshake']:7.1f} {r['handshakes_per_s']:7.0f} "
                  f"{r['latency_p50_ms']:7.2f} {r['latency_p99_ms']:7.2f} {m1:12} {m10:13} "
                  f"{r['failed'] + r['keep_failed']:5}")
        print("targets: minivpnd <= 1/4 of charon's CPU per handshake and <= 1/4 of its bytes per tunnel")
    sh = load(os.path.join(out, "e-shards.json"))
    if sh:
        merged["e_shards"] = sh
        print(f"\n(e) engine shards, one thread each, in-process ({sh['tunnels']} x25519 handshakes, "
              f"{sh['cpus']} CPUs): each thread an initiator and a responder shard")
        print(f"{'threads':>7} {'hs/s':>8} {'scaling':>8} {'resp us/hs':>11} {'fail':>5}")
        for r in sh["rows"]:
            print(f"{r['threads']:7} {r['handshakes_per_s']:8.0f} {r['scaling']:8.2f} "
                  f"{r['responder_cpu_us_per_handshake']:11.1f} {r['failures']:5}")
        print("target: N threads >= 0.9 x N x one thread (2 cores >= 1.8x)")
    names = sorted(n for n in os.listdir(out) if n.endswith(".json") and "-c" in n)
    cores = [r for r in load_all(out, names) if r.get("bench") == "e-cores"]
    if cores:
        merged["e"] = cores
        print("\n(e) handshakes/s and setup latency by cores (responder pinned; generator shares the host)")
        print(f"{'daemon':9} {'cores':>5} {'workers':>7} {'load':>6} {'hs/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'us/hs':>7} {'fail':>5}")
        order = {"charon": 0, "minivpnd": 1}
        cores.sort(key=lambda r: (r["background"] != "none", r["cpus"], order.get(r["daemon"], 2)))
        for r in cores:
            n = len(range(int(r["cpus"].split("-")[0]), int(r["cpus"].split("-")[-1]) + 1))
            print(f"{r['daemon']:9} {n:5} {r['workers'] if r['daemon'] == 'minivpnd' else '-':>7} "
                  f"{'idle' if r['background'] == 'none' else 'busy':>6} {r['handshakes_per_s']:7.0f} "
                  f"{r['latency_p50_ms']:7.2f} {r['latency_p99_ms']:7.2f} "
                  f"{r['responder_cpu_us_per_handshake']:7.1f} {r['failed']:5}")
        busy = next((r["background"] for r in cores if r["background"] != "none"), None)
        if busy:
            print(f"busy = {busy} running beside both")
    d = load(os.path.join(out, "d-latency.json"))
    if d:
        merged["d"] = d
        print("\n(d) tunnel-up latency (initiate -> first ping reply across the VTIs, UML lab)")
        for r in d["results"]:
            if r["status"] == "PASS":
                print(f"{r['pairing']:16} median {r['median_ms']} ms, p90 {r['p90_ms']} ms ({r['rounds']} rounds)")
            else:
                print(f"{r['pairing']:16} {r['status']}: {r['why']}")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(merged, f, indent=1)
    print(f"\nwrote {os.path.join(out, 'results.json')}")


if __name__ == "__main__":
    main()
