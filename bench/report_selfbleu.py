#!/usr/bin/env python3
"""Summarise bench/out/selfbleu (written by bench/selfbleu.sh).

usage: report_selfbleu.py OUT_DIR NLTK_N NAME...
"""
import json
import sys


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except Exception as e:  # tailwatch crashed / printed no JSON
        return {"error": str(e)}


def main():
    out, nltk_n, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    rows = {}
    for line in open(f"{out}/timings.tsv"):
        name, wall, rss, rc = line.rstrip("\n").split("\t")
        rows[name] = (float(wall), int(rss) if rss.isdigit() else None, int(rc))

    def mib(kb):
        return f"{kb / 1024:.1f}" if kb is not None else "NA"

    max_diff_fast = 0.0
    min_ratio_fast = float("inf")
    for name in names:
        for tw_key, an_key, label in (
            (f"tw_{name}", f"fastbleu_{name}", "fast-bleu, all docs"),
            (f"tw_{name}_compat_nltk", f"fastbleu_{name}", "fast-bleu, all docs; tailwatch --compat nltk"),
            (f"tw_{name}_{nltk_n}", f"nltk_{name}_{nltk_n}", f"nltk, first {nltk_n} docs"),
        ):
            tw = load_json(f"{out}/{tw_key}.out")
            an = load_json(f"{out}/{an_key}.out")
            tw_wall, tw_rss, tw_rc = rows[tw_key]
            an_wall, an_rss, an_rc = rows[an_key]
            print(f"[{name}: {label}]")
            if "error" in tw or "error" in an:
                print(f"  tailwatch rc {tw_rc}: {tw.get('error', '')}  anchor rc {an_rc}: {an.get('error', '')}")
                continue
            v_tw = tw["metrics"]["self_bleu_4"]
            v_an = an["mean"]
            diff = abs(v_tw - v_an)
            print(f"  docs/tokens: tailwatch {tw['n_docs']}/{tw['n_tokens']}, {an['impl']} {an['n_docs']}/{an['n_tokens']}")
            print(f"  tailwatch  self_bleu_4 = {v_tw!r:<22} wall {tw_wall:8.3f} s  peak RSS {mib(tw_rss):>7} MiB")
            print(f"  {an['impl']:<10} mean        = {v_an!r:<22} wall {an_wall:8.3f} s  peak RSS {mib(an_rss):>7} MiB"
                  f"  (scoring call alone {an['compute_s']:.3f} s)")
            r_proc = an_wall / tw_wall
            r_comp = an["compute_s"] / tw_wall
            print(f"  speed ratio: {r_proc:.1f}x (process wall / process wall), "
                  f"{r_comp:.1f}x (anchor scoring call only / tailwatch process wall)")
            print(f"  |mean difference| = {diff:.3g}")
            if an_key.startswith("fastbleu") and tw_key == f"tw_{name}":
                max_diff_fast = max(max_diff_fast, diff)
                min_ratio_fast = min(min_ratio_fast, r_comp)
    print()
    print("[compute only: the scoring call alone, both sides; tailwatch best of 5]")
    min_call_ratio = float("inf")
    for name in names:
        for tw_key, an_key, label in (
            (f"twcall_{name}", f"fastbleu_{name}", "fast-bleu, all docs, 2 threads"),
            (f"twcall_{name}_1thread", f"fastbleu_{name}", "fast-bleu, all docs, tailwatch 1 thread"),
            (f"twcall_{name}_{nltk_n}", f"nltk_{name}_{nltk_n}", f"nltk, first {nltk_n} docs"),
        ):
            tw, an = load_json(f"{out}/{tw_key}.out"), load_json(f"{out}/{an_key}.out")
            if "error" in tw or "error" in an:
                print(f"  {name} {label}: missing output ({tw.get('error', '')} {an.get('error', '')})")
                continue
            ratio = an["compute_s"] / tw["best_s"]
            diff = abs(tw["mean"] - an["mean"])
            print(f"  {name:<8} {label:<42} tailwatch {tw['best_s'] * 1e3:8.2f} ms  {an['impl']} "
                  f"{an['compute_s'] * 1e3:9.1f} ms  ratio {ratio:7.1f}x  |mean diff| {diff:.3g}")
            if tw_key == f"twcall_{name}":
                min_call_ratio = min(min_call_ratio, ratio)
    if min_call_ratio != float("inf"):
        print(f"target tailwatch >= 100x faster than fast-bleu (scoring call vs scoring call, worst file): "
              f"{min_call_ratio:.1f}x -> {'MET' if min_call_ratio >= 100 else 'MISSED'}")
    if min_ratio_fast != float("inf"):
        print()
        print(f"whole `tailwatch score --sample all` process (every metric, reading included) vs fast-bleu's call, worst file: "
              f"{min_ratio_fast:.1f}x")
        print(f"target max |mean difference| vs fast-bleu <= 1e-7: {max_diff_fast:.3g} -> "
              f"{'MET' if max_diff_fast <= 1e-7 else 'MISSED'}")
    report_emnlp(out, rows)


def report_emnlp(out, rows):
    """(d): whole `score --metrics self_bleu_4` processes against fast-bleu's call."""
    runs = sorted(k for k in rows if k.startswith("tw_emnlp_"))
    if not runs or "fastbleu_emnlp" not in rows:
        return
    an = load_json(f"{out}/fastbleu_emnlp.out")
    walls = sorted(rows[k][0] for k in runs)
    median = walls[len(walls) // 2]
    values = {load_json(f"{out}/{k}.out").get("metrics", {}).get("self_bleu_4") for k in runs}
    print()
    print(f"[emnlp: whole `score --sample all --metrics self_bleu_4` process, median of {len(runs)}]")
    print(f"  tailwatch self_bleu_4 = {sorted(values, key=str)} wall median {median:.3f} s "
          f"(min {walls[0]:.3f}, max {walls[-1]:.3f})  peak RSS {rows[runs[0]][1]} KiB")
    if "error" in an:
        print(f"  fast-bleu failed: {an['error']}")
        return
    print(f"  fast-bleu mean = {an['mean']!r} process wall {rows['fastbleu_emnlp'][0]:.3f} s, "
          f"scoring call {an['compute_s']:.3f} s")
    ratio = an["compute_s"] / median
    print(f"  ratio: {ratio:.1f}x (fast-bleu's call / tailwatch's whole process), "
          f"{rows['fastbleu_emnlp'][0] / median:.1f}x (process / process)")
    print(f"target >= 100x (call vs whole process): {'MET' if ratio >= 100 else 'MISSED'}")


if __name__ == "__main__":
    main()
