#!/usr/bin/env python3
"""Builds compare.json (test data for test_report.c) from result.json.

result.json is a real `cimsim run -w wl.csv -o result.json` output (tensor-core baseline on the
default A100, 7nm table). `cimsim compare` did not exist yet when this was written, so the two
CiM variants are synthetic: per GEMM, fixed speed factors and CiM energies from the 7nm table's
scaling of the WWW primitives (analog6T 0.15 pJ/MAC, digital6T 0.34 pJ/MAC at 45 nm, x0.05552).
Every energy is a multiple of 2^-6 pJ and every breakdown adds up to its total exactly, as
docs/results.md requires. The numbers exercise the report; they are not simulation results.
"""
import copy
import json
import math

Q = 64.0
F7 = 0.05552136553646073   # Stillmaker-Baas 45 -> 7 nm


def q(x):
    return round(x * Q) / Q


def variant(base, prim, level, macros, mac_pj45, write_pj45, speed, area_extra):
    v = copy.deepcopy(base)
    v["provenance"]["command"] = "cimsim compare -w wl.csv -o out"
    v["provenance"]["cim_source"] = "builtin:arch/cim/%s.cfg" % prim
    v["cim"] = {"primitive": prim, "level": level, "macros": macros,
                "macros_total": macros * (432 if level == "rf" else 108 if level == "smem" else 80),
                "weights_bytes": 4096 * macros * 432, "area_mm2": area_extra,
                "mapping": {"dataflow": "www", "duplication": 1}}
    leak_mw = base["total"]["energy_breakdown_pj"]["leakage"] / base["total"]["seconds"] / 1e9
    tot = {k: 0 for k in base["total"]["energy_breakdown_pj"]}
    cycles = 0
    for g, s in zip(v["gemms"], speed):
        g["cycles"] = int(round(g["cycles"] / s))
        g["seconds"] = g["cycles"] / base["clock_hz"]
        g["tops"] = 2 * g["macs"] / g["seconds"] / 1e12
        g["utilization"] = g["tops"] / base["peak"]["tops"]
        g["bounds_cycles"]["achieved"] = g["cycles"]
        g["bound"] = "cim" if s > 1 else g["bound"]
        g["mapping"] = {"kind": "cim", "summary": "www %s@%s" % (prim, level), "ctas": 0}
        b = g["energy_breakdown_pj"]
        b["cim_mac"] = q(g["macs"] * mac_pj45 * F7)
        b["cim_write"] = q(g["n"] * g["k"] / 16 * write_pj45 * F7)
        b["tensor_core"] = 0
        if level == "rf":
            b["rf"] = q(b["rf"] * 0.1)
        else:
            b["smem"] = q(b["smem"] * 0.25)
            b["rf"] = q(b["rf"] * 0.5)
        b["leakage"] = q(leak_mw * g["seconds"] * 1e9)
        g["energy_pj"] = sum(b.values())
        lv = g["energy_by_level_pj"]
        for k in lv:
            lv[k] = 0
        lv["dram"] = b["dram"]; lv["l2"] = b["l2"]; lv["noc"] = b["noc"]; lv["smem"] = b["smem"]
        lv["rf"] = b["rf"]; lv["cim"] = b["cim_mac"] + b["cim_write"]; lv["dram"] += b["leakage"]
        g["counts"]["tensor_core.mac_int8"] = 0
        g["counts"]["cim.mac"] = g["macs"]
        g["counts"]["cim.write"] = g["n"] * g["k"] // 16
        cycles += g["cycles"]
        for k in tot:
            tot[k] += b[k]
    t = v["total"]
    t["cycles"] = cycles
    t["seconds"] = cycles / base["clock_hz"]
    t["energy_breakdown_pj"] = tot
    t["energy_pj"] = sum(tot.values())
    lv = {k: 0 for k in t["energy_by_level_pj"]}
    for g in v["gemms"]:
        for k, x in g["energy_by_level_pj"].items():
            lv[k] += x
    t["energy_by_level_pj"] = lv
    t["tops"] = 2 * t["macs"] / t["seconds"] / 1e12
    t["tops_per_w"] = 2 * t["macs"] / (t["energy_pj"] * 1e-12) / 1e12
    t["area_mm2"] = base["total"]["area_mm2"] + area_extra
    t["tops_per_mm2"] = t["tops"] / t["area_mm2"]
    return v


base = json.load(open("result.json"))
base["provenance"]["command"] = "cimsim compare -w wl.csv -o out"
doc = {"schema": "cimsim-compare/1", "version": base["version"], "baseline": base,
       "variants": [variant(base, "analog6T", "rf", 5, 0.15, 1.9, [0.8, 1.0, 1.5], 3.125),
                    variant(base, "digital6T", "smem", 48, 0.34, 3.2, [1.25, 2.5, 0.9], 5.5)]}
with open("compare.json", "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
