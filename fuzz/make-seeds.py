#!/usr/bin/env python3
"""Write the seed corpora fuzz/seeds/<target>/ from the tests' inputs and fixtures.

Run from the repository root after `cargo +nightly fuzz build -s none profile_decode`:
    python3 fuzz/make-seeds.py
Needs the `gzip` and `zstd` commands and pyarrow (for Parquet seeds). The seeds are committed;
this script documents where they came from and rewrites them all.
"""
import gzip
import io
import json
import os
import re
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
FIXTURES = os.path.join(ROOT, "crates", "tailwatch-cli", "tests", "fixtures", "profiles")
SNAPSHOTS = os.path.join(ROOT, "crates", "tailwatch-cli", "tests", "it", "snapshots")

# the documents of crates/tailwatch-cli/tests/it/formats.rs
DOCS = ["the cat sat on the mat", "a dog ran in the park", "the cat sat on the mat", "naïve café owners"]


def seed(target, name, data):
    os.makedirs(os.path.join(SEEDS, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(SEEDS, target, name), "wb") as f:
        f.write(data)


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, capture_output=True, check=True).stdout


def main():
    # every seed is rewritten but the crash inputs of fixed bugs (`regression-*`), kept as found
    for target in os.listdir(SEEDS) if os.path.isdir(SEEDS) else []:
        for name in os.listdir(os.path.join(SEEDS, target)):
            if not name.startswith("regression-"):
                os.remove(os.path.join(SEEDS, target, name))
    text = "\n".join(DOCS) + "\n"
    jsonl = "".join(json.dumps({"out": {"text": d}}) + "\n" for d in DOCS)
    plain_jsonl = "".join(json.dumps({"text": d, "id": i, "meta": {"origin": "human"}}) + "\n" for i, d in enumerate(DOCS))
    # (tailwatch-io tests/prompt.rs, tests/filter.rs; tailwatch-cli tests/it/bad_input.rs)
    prompt_jsonl = (
        '{"id": 1, "prompt": "Tell me a story.", "text": "Tell me a story.  Once upon a time."}\n'
        '{"id": 2, "prompt": "Say hi.", "text": ["Say hi. Hello", "Bye"]}\n'
    )
    filter_jsonl = '{"text":"a b","origin":"human","n":1}\n\n{"text":["x","y"],"origin":null}\n{ "text" : "c" , "origin": 5 }\n'
    bad_jsonl = '{"text":"a b"}\n{"text": broken\n{"other":"x"}\n{"text":5}\n{"text": NaN}\n'
    csv = "id,text\n" + "".join(f'{i},"{d}"\n' for i, d in enumerate(DOCS))
    prompt_csv = "id,prompt,text\n1,Say hi.,Say hi. Hello there\n2,Say hi.,Goodbye\n"

    # flags byte: see tailwatch_fuzz::read_options
    seed("records_text", "lines", b"\x00" + text.encode())
    seed("records_text", "paragraphs", b"\x02" + "\n\n".join(d.replace(" ", "\n") for d in DOCS).encode())
    seed("records_text", "bad-utf8", b"\x00fine\n\xff\xfe nope\n")
    seed("records_text", "lossy-crlf", b"\x08first line\r\n\xff\r\nthird\n")
    seed("records_text", "blank", b"\x24\n  \n\n")
    seed("records_jsonl", "field", b"\x01" + jsonl.encode())
    seed("records_jsonl", "extras", b"\x40" + plain_jsonl.encode())
    seed("records_jsonl", "prompt", b"\x80" + prompt_jsonl.encode())
    seed("records_jsonl", "arrays", b"\x10" + (json.dumps({"text": DOCS}) + "\n").encode())
    seed("records_jsonl", "filter", b"\x44" + filter_jsonl.encode())
    seed("records_jsonl", "bad", b"\x04" + bad_jsonl.encode())
    seed("records_json", "array", b"\x40" + json.dumps([{"text": d, "id": i} for i, d in enumerate(DOCS)]).encode())
    seed("records_json", "nested", b"\x01" + json.dumps({"out": {"text": DOCS}}).encode())
    seed("records_json", "object", b"\x80" + json.dumps({"prompt": "the", "text": "the cat"}).encode())
    seed("records_csv", "docs", b"\x00" + csv.encode())
    seed("records_csv", "prompt", b"\xc0" + prompt_csv.encode())
    seed("records_csv", "no-column", b"\x00a,b\n1,2\n")
    seed("records_csv", "quoted", b"\x04" + b'text,id\n"multi\nline ""quoted""",1\nshort\n,3\n')

    for target, compress in [("decompress_gz", lambda b: gzip.compress(b, mtime=0)), ("decompress_zst", zstd)]:
        for mode, (name, body) in enumerate([("text", text), ("jsonl", jsonl), ("json", json.dumps(DOCS)), ("csv", csv)]):
            flags = 0x01 if name == "jsonl" else 0x00
            seed(target, f"{name}", bytes([flags, mode]) + body.encode())
            seed(target, f"{name}-two", bytes([flags, mode | 0x40]) + body.encode())
            packed = compress(body.encode())
            magic = 2 if target == "decompress_gz" else 4
            seed(target, f"{name}-raw", bytes([flags, mode | 0x80]) + packed[magic:])
            seed(target, f"{name}-cut", bytes([flags, mode | 0x80]) + packed[magic : len(packed) // 2])

    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        def parquet(table, **kwargs):
            sink = io.BytesIO()
            pq.write_table(table, sink, **kwargs)
            return sink.getvalue()

        body = pa.table({"text": DOCS, "id": list(range(len(DOCS)))})
        seed("records_parquet", "raw", b"\x40\x80" + parquet(body))
        seed("records_parquet", "raw-dict", b"\x00\x80" + parquet(body, use_dictionary=True, row_group_size=2))
        seed("records_parquet", "raw-large", b"\x00\x80" + parquet(pa.table({"text": pa.array(DOCS, pa.large_string())})))
        seed("records_parquet", "raw-null", b"\x04\x80" + parquet(pa.table({"text": ["a", None, "b"]}), compression="zstd"))
    except ImportError:
        print("pyarrow is missing: no raw Parquet seeds", file=sys.stderr)
    seed("records_parquet", "not-parquet", b"\x00\x80PAR1 definitely not parquet")
    seed("records_parquet", "written", b"\x40\x21" + "\n".join(DOCS).encode())
    seed("records_parquet", "written-null", b"\x84\x4b" + "the cat\n~\nt dog".encode())

    # .twp files of every format version (the smallest fixtures; mode byte 0: the file as is)
    for version in ["v1", "v2"]:
        with open(os.path.join(FIXTURES, version, "sketched.twp"), "rb") as f:
            seed("profile_decode", f"{version}-sketched.twp", b"\x00" + f.read())
    seed("profile_decode", "future.twp", b"\x00TWPROF\x00\x01\x09\x00\x00\x00junk")
    seed("profile_decode", "junk", b"\x00not a profile at all")

    # word-frequency tables (tailwatch-metrics reference.rs)
    seed("reference_tsv", "counts", b"\x00the\t10\ncat\t3\nmat\t1\n")
    seed("reference_tsv", "header", b"\x01word\tfrequency\nThe\t0.5\nthe\t0.25\nCat\t0.25\n")
    seed("reference_tsv", "third-column", b"\x00word\tpos\tcount\nrun\tv\t4\nran\tv\t2\n")
    seed("reference_tsv", "bad", b"\x00word\tcount\n\t3\nx\t-1\ny\tinf\nz\n")

    # .npy matrices of vectors (tailwatch-io vectors.rs): format 1.0, header padded to 64 bytes
    def npy(descr, fortran, shape, data, version=b"\x01\x00"):
        header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}".encode()
        header += b" " * ((-(10 + len(header) + 1)) % 64) + b"\n"
        length = struct.pack("<H", len(header)) if version[0] == 1 else struct.pack("<I", len(header))
        return b"\x93NUMPY" + version + length + header + data

    seed("vectors_npy", "f8", npy("<f8", False, "(2, 3)", struct.pack("<6d", 1.5, -2, 0.25, 3, 4, -0.5)))
    seed("vectors_npy", "f4-big-fortran", npy(">f4", True, "(2, 2)", struct.pack(">4f", 1, 2, 3, 4)))
    seed("vectors_npy", "f2-v2", npy("<f2", False, "(1, 4)", struct.pack("<4e", 1, 2, 3, 4), b"\x02\x00"))
    seed("vectors_npy", "nan", npy("<f8", False, "(1, 2)", struct.pack("<2d", 1, float("nan"))))
    seed("vectors_npy", "truncated", npy("<f8", False, "(4, 4)", struct.pack("<2d", 1, 2)))
    seed("vectors_npy", "pickled", npy("|O", False, "(1,)", b"\x80\x04N."))

    with open(os.path.join(ROOT, "crates", "tailwatch-metrics", "src", "compare.rs")) as f:
        rules = re.search(r'pub const DEFAULT_RULES: &str = r#"(.*?)"#;', f.read(), re.S).group(1)
    seed("rules_toml", "default.toml", rules)
    with open(os.path.join(ROOT, "docs", "RULES.md")) as f:
        for i, block in enumerate(re.findall(r"```toml\n(.*?)```", f.read(), re.S)):
            seed("rules_toml", f"rules-md-{i}.toml", block)
    seed("rules_toml", "bad.toml", '[[rule]]\nmetric = "nope"\nrelative = -1\n[[rule]]\nmetric = "distinct_2"\n')

    for name in ["detect_model", "detect_model_stumps"]:
        with open(os.path.join(SNAPSHOTS, f"{name}.snap")) as f:
            snapshot = f.read()
        seed("detector_model", f"{name}.json", snapshot.split("---\n", 2)[2])

    # server: byte 0 the route, then the query up to `\n`, then the body (server_bodies.rs)
    outputs = "".join(json.dumps({"text": d}) + "\n" for d in DOCS)
    seed("server_bodies", "outputs", b"\x01tokenizer=words&cohort=eu\n" + outputs.encode())
    seed("server_bodies", "outputs-v1", b"\x02field=text&lowercase=true\n" + outputs.encode())
    seed("server_bodies", "baseline", b'\x03\n{"version": "v1"}')
    seed("server_bodies", "freeze", b'\x04\n{"versions": ["v1", "v2"]}')
    seed("server_bodies", "reference", b"\x05chunks=2\n" + outputs.encode())
    seed("server_bodies", "rule", b'\x07\n{"metric": "distinct_2", "kind": "relative", "threshold": 0.1, "open_after": 2}')
    seed("server_bodies", "rule-adaptive", b'\x08\n{"metric": "entropy_1", "kind": "adaptive", "k": 3, "model": "m"}')
    seed("server_bodies", "acknowledge", b"\x09\n{}")
    seed("server_bodies", "webhook", b'\x0a\n{"url": "http://127.0.0.1:9/hook", "secret": "s"}')
    seed("server_bodies", "login", b"\x0b\ntoken=fuzz-token&next=%2Fmodels%2Fm")
    seed("server_bodies", "ack-form", b"\x0c\nnext=/alerts")
    # server_query: byte 0 the route, the path segment up to `\n`, then the query
    for i, (segment, query) in enumerate(
        [
            ("", ""),
            ("m", ""),
            ("m", ""),
            ("m", "cohort=default"),
            ("v1", "cohort=default"),
            ("m", "cohort=default"),
            ("m", "metric=distinct_2&by=version&cohort=default"),
            ("m", "baseline=v1&candidate=v2"),
            ("m", ""),
            ("k", ""),
            ("", ""),
            ("1", ""),
            ("", "state=open&model=m"),
            ("1", ""),
            ("", ""),
            ("1", ""),
            ("", ""),
            ("m", "by=window"),
            ("m", "baseline=v1&candidate=v2&cohort=default"),
            ("", ""),
            ("/models/m?x=1", "next=%2F%09%2Fevil.com"),
        ]
    ):
        seed("server_query", f"route-{i:02}", bytes([i]) + f"{segment}\n{query}".encode())
    seed("server_query", "name-unicode", "\x01café ü\u202e\n".encode())

    # ledger: the first line maps provenance fields (ledger_field_map.rs)
    records = "".join(
        json.dumps({"text": d, "id": f"r{i}", "origin": ["human", "synthetic"][i % 2], "gen": i, "from": [f"r{i - 1}"] if i else []}) + "\n"
        for i, d in enumerate(DOCS)
    )
    seed("ledger_field_map", "jsonl", "origin=origin key=id generation=gen parents=from batch=2\n" + records)
    seed("ledger_field_map", "default-origin", "default=human key=id\n" + records)
    seed("ledger_field_map", "csv", "format=csv origin=origin source=src license=lic\ntext,origin,src,lic\na b,human,web,cc0\nc d,unknown,,\n")
    seed("ledger_field_map", "nested", 'default=unknown generator=meta.model parents=meta.parents\n{"text": "x", "meta": {"model": "gpt", "parents": "y"}}\n{"text": "y"}\n')
    seed("ledger_field_map", "bad", "origin=o generation=g\n" + '{"text": "x", "o": "alien", "g": -1}\n')

    binary = os.path.join(ROOT, "fuzz", "target", "x86_64-unknown-linux-gnu", "release", "profile_decode")
    env = dict(os.environ, TAILWATCH_FUZZ_WRITE_SEEDS=SEEDS)
    subprocess.run([binary, "-runs=0"], env=env, check=True)


if __name__ == "__main__":
    main()
