//! Detector model files (`DetectorModel::from_json`, what `detect score`, `ingest --detector`
//! and the engine's detectors load). Any text is a model or an `Err`, never a panic. A model
//! that loads writes back to JSON that loads as the same model (the same JSON again), and
//! scores any text as a probability in [0, 1].
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailwatch_detect::DetectorModel;

const TEXTS: &[&str] = &[
    "",
    "The cat sat on the mat. It was happy!",
    "the the the the the the the the",
    "A 1990s report, 42% of it numbers: 3.14, 2.71 and 1.41.",
];

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    let Ok(model) = DetectorModel::from_json(json) else { return };
    let written = model.to_json().expect("a loaded model writes");
    let loaded = DetectorModel::from_json(&written).expect("a written model loads");
    assert!(loaded.to_json().expect("writes") == written, "the model changed in a write and a load");
    for text in TEXTS {
        if let Ok(p) = model.score(text) {
            assert!((0.0..=1.0).contains(&p), "score {p} of {text:?}");
            assert_eq!(loaded.score(text).ok().map(f64::to_bits), Some(p.to_bits()));
        }
    }
});
