"""The Python package against the CLI, Spark and Ray against the CLI and whylogs (bench/python.sh).

Each measurement runs in its own process under GNU time (wall time and peak RSS of that
process), alternating the tools ROUNDS times; the medians are compared.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

GNU_TIME = os.environ.get("GNU_TIME", "/usr/bin/time")


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) and stdout of one run."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        t0 = time.perf_counter()
        done = subprocess.run([GNU_TIME, "-v", "-o", report.name, *cmd], capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        rss = next(int(line.split(":")[1]) for line in report.read().splitlines() if "Maximum resident set size" in line)
    return wall, rss, done.stdout


def python(code: str, py: str, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    return timed([py, "-c", textwrap.dedent(code)], env)


def summarize(name: str, runs: list[tuple[float, int, str]]) -> dict[str, float]:
    walls = [r[0] for r in runs]
    inner = [json.loads(r[2]).get("seconds") for r in runs if r[2].strip().startswith("{")]
    row = {"wall_median_s": statistics.median(walls), "wall_runs_s": walls, "peak_rss_mib": max(r[1] for r in runs) / 1024}
    if inner and all(x is not None for x in inner):
        row["inner_median_s"] = statistics.median(inner)
    print(f"  {name:<44} median wall {row['wall_median_s']:8.2f} s  peak RSS {row['peak_rss_mib']:8.0f} MiB"
          + (f"  (timed inside: {row['inner_median_s']:.2f} s)" if "inner_median_s" in row else ""), flush=True)
    return row


def main() -> None:
    corpus, small, tw_bin, tw_py, spark_py, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
    out = Path(tempfile.mkdtemp())
    results: dict[str, object] = {"corpus": corpus, "small_corpus": small, "rounds": rounds}
    parts = os.environ.get("PARTS", "profile,spark,ray,dedup").split(",")
    mb = os.path.getsize(small) / 1e6

    # 1. Python overhead: Profile.from_arrow of the corpus read with pyarrow vs `tailwatch profile`
    if "profile" in parts:
        profile_part(corpus, tw_bin, tw_py, rounds, out, results)
    if "spark" in parts:
        spark_part(small, tw_bin, spark_py, rounds, out, results, mb)
    if "ray" in parts:
        ray_part(small, tw_py, rounds, results, mb)
    if "dedup" in parts:
        dedup_part(os.environ["PLANTED"], tw_bin, spark_py, rounds, out, results)
    print(json.dumps(results, indent=2, default=str), file=open(out / "results.json", "w"))
    print(f"results: {out / 'results.json'}")


def profile_part(corpus, tw_bin, tw_py, rounds, out, results):
    print(f"-- 1. Profile.from_arrow vs tailwatch profile, {os.path.getsize(corpus) / 1e6:.0f} MB, 2 threads", flush=True)
    read = f"""
        import json, time, pyarrow.csv as csv
        t0 = time.perf_counter()
        table = csv.read_csv({corpus!r}, read_options=csv.ReadOptions(column_names=["text"], block_size=1 << 26),
            parse_options=csv.ParseOptions(delimiter="\\x01", quote_char=False, escape_char=False),
            convert_options=csv.ConvertOptions(column_types={{"text": "string"}}, strings_can_be_null=False, quoted_strings_can_be_null=False))
        read_s = time.perf_counter() - t0
    """
    py_profile = read + f"""
        import tailwatch as tw
        tw.set_num_threads(2)
        t1 = time.perf_counter()
        p = tw.Profile.from_arrow(table, column="text")
        seconds = time.perf_counter() - t1
        p.save({str(out / 'py.twp')!r})
        print(json.dumps({{"seconds": seconds, "read_s": read_s, "docs": p.n_docs}}))
    """
    cli, py_runs = [], []
    for _ in range(rounds):
        cli.append(timed([tw_bin, "profile", corpus, "-o", str(out / "cli.twp"), "--threads", "2", "-q"]))
        py_runs.append(python(py_profile, tw_py))
    same = (out / "py.twp").read_bytes() == (out / "cli.twp").read_bytes()
    r_cli = summarize("tailwatch profile --threads 2", cli)
    r_py = summarize("pyarrow read + Profile.from_arrow (2 threads)", py_runs)
    reads = [json.loads(r[2])["read_s"] for r in py_runs]
    r_py["pyarrow_read_median_s"] = statistics.median(reads)
    results["profile"] = {"cli": r_cli, "python": r_py, "byte_identical": same,
                          "ratio_from_arrow_to_cli": r_py["inner_median_s"] / r_cli["wall_median_s"],
                          "ratio_total_to_cli": r_py["wall_median_s"] / r_cli["wall_median_s"]}
    print(f"  byte-identical profiles: {same}; from_arrow / CLI = {results['profile']['ratio_from_arrow_to_cli']:.2f}x, "
          f"whole Python process / CLI = {results['profile']['ratio_total_to_cli']:.2f}x (pyarrow read {r_py['pyarrow_read_median_s']:.2f} s)", flush=True)



def spark_part(small, tw_bin, spark_py, rounds, out, results, mb):
    """2. Spark local[2]: profile_dataframe vs whylogs' Spark profiler vs the CLI."""
    print(f"-- 2. Spark local[2] on {os.path.getsize(small) / 1e6:.0f} MB: tailwatch.spark vs whylogs vs the CLI", flush=True)
    spark_setup = f"""
        import json, os, sys, time
        os.environ["PYSPARK_PYTHON"] = sys.executable
        from pyspark.sql import SparkSession
        t0 = time.perf_counter()
        spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                 .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                 .config("spark.driver.memory", "4g").config("spark.sql.shuffle.partitions", "2").getOrCreate())
        df = spark.read.text({small!r}).withColumnRenamed("value", "text").filter("trim(text) != ''").repartition(8).cache()
        n = df.count()
        startup_s = time.perf_counter() - t0
    """
    tw_spark = spark_setup + """
        import tailwatch as tw
        t1 = time.perf_counter()
        p = tw.spark.profile_dataframe(df, "text")
        seconds = time.perf_counter() - t1
        print(json.dumps({"seconds": seconds, "startup_s": startup_s, "docs": p.n_docs, "rows": n,
                          "distinct_2": p.metrics(metrics=["distinct_2"])["distinct_2"]}))
    """
    wl_spark = spark_setup + """
        from whylogs.api.pyspark.experimental import collect_dataset_profile_view
        t1 = time.perf_counter()
        view = collect_dataset_profile_view(input_df=df)
        seconds = time.perf_counter() - t1
        print(json.dumps({"seconds": seconds, "startup_s": startup_s, "columns": list(view.get_columns())}))
    """
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    tw_runs, wl_runs, cli_small = [], [], []
    for _ in range(rounds):
        tw_runs.append(python(tw_spark, spark_py, env))
        wl_runs.append(python(wl_spark, spark_py, env))
        cli_small.append(timed([tw_bin, "profile", small, "-o", str(out / "small.twp"), "--threads", "2", "-q"]))
    r_tw = summarize("tailwatch.spark.profile_dataframe", tw_runs)
    r_wl = summarize("whylogs collect_dataset_profile_view", wl_runs)
    r_cs = summarize("tailwatch profile (CLI, 2 threads)", cli_small)
    startup = statistics.median(json.loads(r[2])["startup_s"] for r in tw_runs)
    results["spark"] = {"tailwatch": r_tw, "whylogs": r_wl, "cli": r_cs, "startup_median_s": startup,
                        "tailwatch_mb_per_s": mb / r_tw["inner_median_s"], "whylogs_mb_per_s": mb / r_wl["inner_median_s"],
                        "cli_mb_per_s": mb / r_cs["wall_median_s"]}
    print(f"  throughput: tailwatch.spark {results['spark']['tailwatch_mb_per_s']:.1f} MB/s, whylogs {results['spark']['whylogs_mb_per_s']:.1f} MB/s, "
          f"CLI {results['spark']['cli_mb_per_s']:.1f} MB/s; Spark start-up and caching {startup:.1f} s (not counted)", flush=True)



def ray_part(small, tw_py, rounds, results, mb):
    """3. Ray: profile_dataset throughput, start-up separately."""
    print(f"-- 3. Ray (num_cpus=2) on {mb:.0f} MB", flush=True)
    tw_ray = f"""
        import json, time
        import pyarrow.csv as csv
        t0 = time.perf_counter()
        import ray
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False, object_store_memory=1 << 30)
        startup_s = time.perf_counter() - t0
        table = csv.read_csv({small!r}, read_options=csv.ReadOptions(column_names=["text"], block_size=1 << 26),
            parse_options=csv.ParseOptions(delimiter="\\x01", quote_char=False, escape_char=False),
            convert_options=csv.ConvertOptions(column_types={{"text": "string"}}, strings_can_be_null=False))
        ds = ray.data.from_arrow(table).repartition(8).materialize()
        import tailwatch as tw
        t1 = time.perf_counter()
        p = tw.ray.profile_dataset(ds, "text")
        seconds = time.perf_counter() - t1
        print(json.dumps({{"seconds": seconds, "startup_s": startup_s, "docs": p.n_docs}}))
        ray.shutdown()
    """
    ray_runs = [python(tw_ray, tw_py, {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}) for _ in range(rounds)]
    r_ray = summarize("tailwatch.ray.profile_dataset", ray_runs)
    ray_start = statistics.median(json.loads(r[2])["startup_s"] for r in ray_runs)
    results["ray"] = {"tailwatch": r_ray, "startup_median_s": ray_start, "mb_per_s": mb / r_ray["inner_median_s"]}
    print(f"  throughput {results['ray']['mb_per_s']:.1f} MB/s; ray.init {ray_start:.1f} s (not counted)", flush=True)


def dedup_part(planted, tw_bin, spark_py, rounds, out, results):
    """4. Dedup of the planted corpus: tailwatch.spark vs the CLI vs datasketch in a pandas UDF."""
    n_docs = sum(1 for _ in open(planted))
    print(f"-- 4. dedup of {planted} ({n_docs} docs, {os.path.getsize(planted) / 1e6:.0f} MB), Spark local[2]", flush=True)
    setup = f"""
        import json, os, sys, time
        os.environ["PYSPARK_PYTHON"] = sys.executable
        from pyspark.sql import SparkSession, functions as F
        spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                 .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                 .config("spark.driver.memory", "4g").config("spark.sql.shuffle.partitions", "4").getOrCreate())
        lines = [line.rstrip("\\n") for line in open({planted!r})]
        df = spark.createDataFrame(list(enumerate(lines)), "id long, text string").repartition(8).cache()
        df.count()
    """
    tw_code = setup + """
        import tailwatch as tw
        t1 = time.perf_counter()
        result = tw.spark.dedup_dataframe(df, "text", order_by="id").select("id", "cluster_id", "keep").toPandas()
        seconds = time.perf_counter() - t1
        print(json.dumps({"seconds": seconds, "kept": int(result["keep"].sum()),
                          "keep": [bool(k) for k in result.sort_values("id")["keep"]]}))
    """
    ds_code = setup + """
        from datasketch import MinHash, MinHashLSH
        lsh = MinHashLSH(threshold=0.8, num_perm=128)
        bands, rows = lsh.b, lsh.r
        def signatures(frames):
            import hashlib, pandas as pd
            from datasketch import MinHash
            for frame in frames:
                out = {"band": [], "key": [], "id": []}
                for i, text in zip(frame["id"], frame["text"]):
                    words = text.lower().split()
                    m = MinHash(num_perm=128)
                    m.update_batch([" ".join(words[j:j + 5]).encode() for j in range(max(1, len(words) - 4))])
                    for b in range(bands):
                        out["band"].append(b)
                        out["key"].append(hashlib.blake2b(m.hashvalues[b * rows:(b + 1) * rows].tobytes(), digest_size=8).hexdigest())
                        out["id"].append(i)
                yield pd.DataFrame(out)
        t1 = time.perf_counter()
        keys = df.mapInPandas(signatures, "band int, key string, id long")
        buckets = keys.groupBy("band", "key").agg(F.collect_list("id").alias("ids")).filter(F.size("ids") > 1)
        pairs = buckets.select(F.explode(F.expr("transform(sequence(0, size(ids) - 2), i -> ids[i])")).alias("a")).count()
        seconds = time.perf_counter() - t1
        print(json.dumps({"seconds": seconds, "bands": bands, "rows": rows, "star_edges": pairs}))
    """
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    tw_runs, ds_runs, cli_runs = [], [], []
    for _ in range(rounds):
        cli_runs.append(timed([tw_bin, "dedup", planted, "-o", str(out / "kept.txt"), "--clusters", str(out / "clusters.jsonl"), "--threads", "2", "-q"]))
        tw_runs.append(python(tw_code, spark_py, env))
        ds_runs.append(python(ds_code, spark_py, env))
    cli_kept = sum(1 for _ in open(out / "kept.txt"))
    r_cli = summarize("tailwatch dedup (CLI, 2 threads)", cli_runs)
    r_tw = summarize("tailwatch.spark.dedup_dataframe", tw_runs)
    r_ds = summarize("datasketch MinHash in mapInPandas + LSH buckets", ds_runs)
    spark_kept = json.loads(tw_runs[0][2])["kept"]
    results["dedup"] = {"cli": r_cli, "spark": r_tw, "datasketch_spark": r_ds, "cli_kept": cli_kept, "spark_kept": spark_kept,
                        "same_kept": cli_kept == spark_kept, "docs": n_docs}
    print(f"  kept: CLI {cli_kept}, Spark {spark_kept}; tailwatch.spark / CLI = {r_tw['inner_median_s'] / r_cli['wall_median_s']:.1f}x, "
          f"datasketch signatures + buckets / tailwatch.spark = {r_ds['inner_median_s'] / r_tw['inner_median_s']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
