//! `ledger export`: every record as JSONL with its provenance, plus a Croissant-style manifest.
use std::io::Write;

use serde_json::{Value, json};

use crate::store::Ledger;
use crate::{Error, Result};

/// What an export wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportSummary {
    /// Records written.
    pub records: u64,
    /// BLAKE3-256 (hex) of the JSONL bytes, as written into the manifest.
    pub blake3: String,
    /// Bytes written.
    pub bytes: u64,
}

/// Write every record as one JSON line: `id`, `key`, `text`, `origin`, `generator`,
/// `generation`, `source`, `license`, `tokens`, `parents`, `detector_score`.
pub fn export_jsonl(ledger: &Ledger, out: &mut dyn Write) -> Result<ExportSummary> {
    let parents = ledger.parent_map()?;
    let mut hasher = blake3::Hasher::new();
    let mut records = 0u64;
    let mut bytes = 0u64;
    for row in ledger.records(None)? {
        let line = json!({
            "id": row.id,
            "key": row.key,
            "text": row.text,
            "origin": row.origin,
            "generator": row.generator,
            "generation": row.generation,
            "source": row.source,
            "license": row.license,
            "tokens": row.tokens,
            "parents": parents.get(&row.id).cloned().unwrap_or_default(),
            "detector_score": row.detector_score,
        });
        let mut text =
            serde_json::to_vec(&line).map_err(|source| Error::Json { context: "export".into(), source })?;
        text.push(b'\n');
        hasher.update(&text);
        out.write_all(&text).map_err(|source| Error::Io { path: "<export>".into(), source })?;
        records += 1;
        bytes += text.len() as u64;
    }
    Ok(ExportSummary { records, blake3: hasher.finalize().to_hex().to_string(), bytes })
}

/// A Croissant-style JSON-LD manifest (mlcommons Croissant 1.1 vocabulary, W3C PROV-O for
/// provenance, Croissant RAI for the collection notes) describing an export: the file, its
/// record set and fields, and the provenance counts (by origin, generator, generation).
/// Croissant has no per-record "synthetic" flag, so it is a field (`origin`) plus
/// `prov:wasGeneratedBy` notes per generator.
pub fn manifest(ledger: &Ledger, file_name: &str, summary: &ExportSummary, name: &str) -> Result<Value> {
    let stats = ledger.stats()?;
    let groups = |g: &[crate::store::Group]| -> Value {
        Value::Array(
            g.iter()
                .map(|x| json!({"value": x.value, "records": x.records, "tokens": x.tokens, "record_share": x.record_share, "token_share": x.token_share}))
                .collect(),
        )
    };
    let field = |id: &str, kind: &str, description: &str| {
        json!({
            "@type": "cr:Field",
            "@id": format!("records/{id}"),
            "name": id,
            "description": description,
            "dataType": kind,
            "source": {"fileObject": {"@id": "records-jsonl"}, "extract": {"jsonPath": format!("$.{id}")}},
        })
    };
    let generators: Vec<Value> = stats
        .by_generator
        .iter()
        .filter_map(|g| g.value.as_ref())
        .map(|g| json!({"@type": "prov:Activity", "rdfs:label": format!("generation by {g}"), "prov:wasAssociatedWith": {"@type": "prov:SoftwareAgent", "rdfs:label": g}}))
        .collect();
    Ok(json!({
        "@context": {
            "@language": "en",
            "@vocab": "https://schema.org/",
            "cr": "http://mlcommons.org/croissant/",
            "rai": "http://mlcommons.org/croissant/RAI/",
            "prov": "http://www.w3.org/ns/prov#",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "sc": "https://schema.org/",
            "dct": "http://purl.org/dc/terms/",
            "conformsTo": "dct:conformsTo",
            "data": {"@id": "cr:data", "@type": "@json"},
            "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
            "extract": "cr:extract",
            "field": "cr:field",
            "fileObject": "cr:fileObject",
            "jsonPath": "cr:jsonPath",
            "recordSet": "cr:recordSet",
            "source": "cr:source"
        },
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.1",
        "name": name,
        "description": "Training records exported from a tailwatch provenance ledger, each with its origin (human, synthetic, unknown), generator, generation depth and parents.",
        "version": format!("1.0.{}", stats.batches),
        "rai:dataCollectionType": ["Software Collection"],
        "rai:dataCollection": "Records ingested into a tailwatch ledger with declared provenance per record; synthetic records carry their generator and generation depth (0 for human text, 1 + the parents' for model output).",
        "prov:wasGeneratedBy": generators,
        "distribution": [{
            "@type": "cr:FileObject",
            "@id": "records-jsonl",
            "name": file_name,
            "contentUrl": file_name,
            "encodingFormat": "application/jsonlines",
            "contentSize": format!("{} B", summary.bytes),
            "sha256": null,
            "tailwatch:blake3": summary.blake3,
        }],
        "recordSet": [{
            "@type": "cr:RecordSet",
            "@id": "records",
            "name": "records",
            "field": [
                field("id", "sc:Text", "content id: BLAKE3-256 (hex) of the NFKC, whitespace-collapsed text"),
                field("key", "sc:Text", "the user's record key"),
                field("text", "sc:Text", "the record"),
                field("origin", "sc:Text", "human, synthetic or unknown (declared provenance)"),
                field("generator", "sc:Text", "model that generated the record"),
                field("generation", "sc:Integer", "recursion depth: 0 human, 1 + parents' for model output"),
                field("source", "sc:Text", "dataset or source"),
                field("license", "sc:Text", "license"),
                field("tokens", "sc:Integer", "word tokens"),
                field("parents", "sc:Text", "content ids of the records it derives from (prov:wasDerivedFrom)"),
                field("detector_score", "sc:Float", "machine-text detector probability, when scored"),
            ],
        }],
        "tailwatch:provenance": {
            "records": stats.records,
            "tokens": stats.tokens,
            "parent_edges": stats.parent_edges,
            "by_origin": groups(&stats.by_origin),
            "by_generator": groups(&stats.by_generator),
            "by_generation": groups(&stats.by_generation),
            "by_source": groups(&stats.by_source),
        },
    }))
}
