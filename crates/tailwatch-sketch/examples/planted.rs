//! Write a planted-duplicate corpus (one document per line) for benchmarks:
//! `planted OUT.txt [BASE_DOCS] [SEED]`; prints documents, words and bytes.
#![allow(clippy::print_stdout)]

use std::io::Write;

use tailwatch_sketch::planted::{PlantedSpec, planted_corpus};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).expect("usage: planted OUT.txt [BASE_DOCS] [SEED]");
    let base_docs = args.get(2).map_or(2000, |s| s.parse().expect("BASE_DOCS is a number"));
    let seed = args.get(3).map_or(2024, |s| s.parse().expect("SEED is a number"));
    let corpus = planted_corpus(&PlantedSpec { base_docs, seed, ..PlantedSpec::default() });
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut bytes = 0;
    let mut words = 0;
    for doc in &corpus.docs {
        file.write_all(doc.as_bytes())?;
        file.write_all(b"\n")?;
        bytes += doc.len() + 1;
        words += doc.split(' ').count();
    }
    file.flush()?;
    println!(
        "{out}: {} documents, {words} words, {bytes} bytes (base {base_docs}, seed {seed})",
        corpus.docs.len()
    );
    Ok(())
}
