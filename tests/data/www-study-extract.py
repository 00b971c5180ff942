#!/usr/bin/env python3
"""Extracts tests/data/www-study.txt from a checkout of the WWW study's repository.

    git clone https://github.com/tanvisharma/WWWtoCiM && git -C WWWtoCiM checkout 3f9e8aa
    python3 tests/data/www-study-extract.py WWWtoCiM > tests/data/www-study.txt

Reads, for each of the 17 stored Timeloop results of BERT-Large 512x1024x1024
(www-cim/outputs/<design>/BERT-Large/<outputs dir>/512_1024_1024/), the mapping Timeloop
evaluated (timeloop-mapper.map.yaml) and its statistics (timeloop-mapper.stats.txt), and writes
the figures cimsim's tests and `cimsim validate` compare with, in cimsim's own line format
(described at the top of the output). Needs PyYAML. Nothing of the study's files is copied:
only loop factors and the numbers below.
"""
import os
import re
import sys

import yaml

CONFIGS = [
    ("tensor_core_like", "outputs", "baseline", "-"),
    ("rf_compute_analog6T", "outputs_consv2p1", "rf", "analog6T"),
    ("rf_compute_analog8T", "outputs_consv2p1", "rf", "analog8T"),
    ("rf_compute_digital6T", "outputs_consv2p1", "rf", "digital6T"),
    ("rf_compute_digital8T", "outputs_consv2p1", "rf", "digital8T"),
    ("rf_compute_analog6T", "outputs", "rf", "analog6T"),
    ("rf_compute_analog8T", "outputs", "rf", "analog8T"),
    ("rf_compute_digital6T", "outputs", "rf", "digital6T"),
    ("rf_compute_digital8T", "outputs", "rf", "digital8T"),
    ("smem_compute_analog6T", "outputs_cons", "smem", "analog6T"),
    ("smem_compute_analog8T", "outputs_cons", "smem", "analog8T"),
    ("smem_compute_digital6T", "outputs_cons", "smem", "digital6T"),
    ("smem_compute_digital8T", "outputs_cons", "smem", "digital8T"),
    ("smem_compute_analog6T", "outputs", "smem", "analog6T"),
    ("smem_compute_analog8T", "outputs", "smem", "analog8T"),
    ("smem_compute_digital6T", "outputs", "smem", "digital6T"),
    ("smem_compute_digital8T", "outputs", "smem", "digital8T"),
]

# the study's primitive latencies (www-cim/my-inputs/primitives/cim-primitives.txt), ns = cycles
LATENCY = {"analog6T": 9, "analog8T": 144, "digital6T": 18, "digital8T": 233}
# level bandwidths of the study's post-processing (get_stats.py: calculate_new_cycles)
BW = {"SMEM": 42, "DRAM": 32}


def parse_stats(text):
    """Per level: name, instances, and per dataspace the per-instance counts and energies."""
    levels = []
    for block in re.split(r"\nLevel \d+\n-+\n", text)[1:]:
        m = re.match(r"=== (\S+) ===", block.strip())
        if not m:
            continue
        lv = {"name": m.group(1), "ds": {}, "leak": 0.0}
        ds = None
        for line in block.split("\n"):
            s = line.strip()
            if s.startswith("Networks"):
                break
            if re.fullmatch(r"[ABZ]:", s):
                ds = s[0]
                lv["ds"][ds] = {}
                continue
            if ":" not in s:
                continue
            k, v = [x.strip() for x in s.split(":", 1)]
            if ds:
                lv["ds"][ds][k] = v
            elif k not in lv:
                lv[k] = v
            if k == "Leakage energy (total)":
                lv["leak"] = float(v.split()[0])
        levels.append(lv)
    return levels


def num(v):
    return float(v.split()[0])


def main(root):
    out = sys.stdout
    out.write(
        "# The WWW study's Timeloop results for BERT-Large 512x1024x1024 (figures, not the files).\n"
        "# Source: github.com/tanvisharma/WWWtoCiM at 3f9e8aa, www-cim/outputs/<design>/BERT-Large/\n"
        "# <dir>/512_1024_1024/timeloop-mapper.{map.yaml,stats.txt}; extracted by\n"
        "# tests/data/www-study-extract.py. One block per stored run:\n"
        "#   config NAME DESIGN PRIMITIVE         DESIGN: baseline (tensor_core_like), rf, smem; NAME ends\n"
        "#                                        in the run: search (outputs: Timeloop's own search),\n"
        "#                                        cons (outputs_cons), consv2p1 (outputs_consv2p1)\n"
        "#   keep LEVEL DS...                     dataspaces Timeloop keeps at a level (the rest bypass)\n"
        "#   loop LEVEL t|s M N K PERM            temporal or spatial factors, permutation innermost first\n"
        "#   count LEVEL DS READS FILLS UPDATES   scalar accesses summed over the utilized instances\n"
        "#   energy LEVEL PJ                      Energy (total) summed over the level's dataspaces\n"
        "#                                        (compute levels: the compute energy), no leakage\n"
        "#   leak LEVEL PJ                        the level's leakage energy\n"
        "#   cycles TIMELOOP STEPS STUDY MEMORY   Timeloop's cycles (with its bandwidth throttling),\n"
        "#                                        its compute steps (the compute level's cycles), the\n"
        "#                                        study's post-processed cycles (get_stats.py: steps x\n"
        "#                                        held weights used x latency, or more when a level's\n"
        "#                                        reads or updates over its bandwidth are more), and\n"
        "#                                        that memory term alone\n"
        "#   total PJ                             Timeloop's total energy (Summary Stats, uJ x 1e6)\n"
        "#   end\n"
    )
    for design, odir, level, prim in CONFIGS:
        d = os.path.join(root, "www-cim/outputs", design, "BERT-Large", odir, "512_1024_1024")
        tag = {"outputs": "search", "outputs_cons": "cons", "outputs_consv2p1": "consv2p1"}[odir]
        name = "%s-%s" % (level if level == "baseline" else "%s-%s" % (level, prim), tag)
        out.write("config %s %s %s\n" % (name, level, prim))
        mp = yaml.safe_load(open(os.path.join(d, "timeloop-mapper.map.yaml")))["mapping"]
        for e in mp:
            if e["type"] == "datatype":
                out.write("keep %s %s\n" % (e["target"], " ".join(e.get("keep") or []) or "-"))
        for e in mp:
            if e["type"] in ("temporal", "spatial"):
                f = dict((x[0], int(x[1:])) for x in e["factors"].split())
                out.write("loop %s %s %d %d %d %s\n" % (e["target"], e["type"][0], f["M"], f["N"], f["K"],
                                                        e["permutation"]))
        text = open(os.path.join(d, "timeloop-mapper.stats.txt")).read()
        levels = parse_stats(text)
        steps = None
        rh_used = ch_used = 1
        for lv in levels:
            if not lv["ds"]:  # the compute level
                steps = int(lv["Cycles"])
                out.write("energy %s %.2f\n" % (lv["name"], num(lv["Energy (total)"])))
                continue
            e = 0.0
            for ds, v in sorted(lv["ds"].items()):
                inst = int(v["Utilized instances (max)"])
                r, f, u = (int(v["Scalar %s (per-instance)" % k]) * inst for k in ("reads", "fills", "updates"))
                out.write("count %s %s %d %d %d\n" % (lv["name"], ds, r, f, u))
                e += num(v["Energy (total)"])
            out.write("energy %s %.2f\n" % (lv["name"], e))
            out.write("leak %s %.2f\n" % (lv["name"], lv["leak"]))
        # the study's post-processing: CiM compute cycles x (held weights used) x latency, then
        # the largest of that and each level's reads / read bandwidth, updates / write bandwidth
        # (per-instance counts, bandwidth 1 word/cycle for levels without a figure)
        cyc = int(re.search(r"\nCycles: (\d+)", text).group(1))
        memory = 0
        if level == "baseline":
            study = cyc
        else:
            for e in mp:
                if e["target"] == "CiMStorage" and e["type"] == "temporal":
                    f = dict((x[0], int(x[1:])) for x in e["factors"].split())
                    rh_used, ch_used = f["K"], f["N"]
            study = steps * rh_used * ch_used * LATENCY[prim]
            for lv in levels:
                bw = BW.get(lv["name"], 1)
                reads = sum(int(v["Scalar reads (per-instance)"]) for v in lv["ds"].values())
                ups = sum(int(v["Scalar updates (per-instance)"]) for v in lv["ds"].values())
                memory = max(memory, reads / bw, ups / bw)
            study = max(study, memory)
        out.write("cycles %d %d %d %d\n" % (cyc, steps, int(study), int(memory)))
        tot = float(re.search(r"\nEnergy: ([\d.]+) uJ", text).group(1))
        out.write("total %.0f\nend\n" % (tot * 1e6))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
