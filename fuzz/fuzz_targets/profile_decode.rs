//! `.twp` decoding (`Profile::from_bytes_limited`, what `score`, `compare` and the server's
//! push read). The input is framed by `tailwatch_fuzz::twp_input`, so mutations reach the body
//! past the checksum. A decoded profile must encode again, decode to the same bytes (the
//! encoding is canonical), and give metrics that are finite and inside their documented ranges.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tailwatch::Engine;
use tailwatch_metrics::report::ScoreReport;
use tailwatch_metrics::{MetricSelection, Profile};

static ENGINE: LazyLock<Engine> = LazyLock::new(|| Engine::new(Some(1)).expect("an engine"));

fuzz_target!(
    init: {
        if let Some(dir) = std::env::var_os("TAILWATCH_FUZZ_WRITE_SEEDS") {
            tailwatch_fuzz::seeds::write_all(Path::new(&dir));
            std::process::exit(0);
        }
    },
    |data: &[u8]| {
    let bytes = tailwatch_fuzz::twp_input(data);
    let Ok(profile) = Profile::from_bytes_limited(&bytes, Path::new("<fuzz>"), 16 << 20) else { return };
    let encoded = profile.to_bytes().expect("a decoded profile encodes");
    let again = Profile::from_bytes(&encoded, Path::new("<encoded>")).expect("an encoded profile decodes");
    assert_eq!(again.to_bytes().expect("encodes"), encoded, "the encoding is not canonical");
    if profile.n_docs() == 0 {
        return;
    }
    let Ok(metrics) = tailwatch::scoring::profile_metrics(&ENGINE, &profile, None, &MetricSelection::All)
    else {
        return;
    };
    let report = ScoreReport { n_docs: profile.n_docs(), metrics, ..ScoreReport::default() };
    if let Err(e) = tailwatch::comparing::check_report(&report, Path::new("<fuzz>"), &[]) {
        panic!("a decoded profile gave a metric out of range: {e}");
    }
}
);
