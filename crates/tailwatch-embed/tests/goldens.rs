//! FD against pytorch-fid's `calculate_frechet_distance` and torch-fidelity's trace
//! (`oracles/goldens/embeddings.json`, made by `oracles/embedding_goldens.py`), on features
//! both sides generate from the same integer sequence.
use tailwatch_embed::{Moments, frechet_distance};
use tailwatch_io::vectors::Vectors;

fn goldens() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../oracles/goldens/embeddings.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("goldens")).expect("JSON")
}

/// `features` of the golden script: a 64-bit LCG's top 53 bits as [-0.5, 0.5), times
/// (1 + j·scale), plus shift.
fn features(side: &serde_json::Value) -> Vectors {
    let get = |k: &str| side[k].as_f64().expect(k);
    let (n, d) = (get("n") as usize, get("d") as usize);
    let (scale, shift) = (get("scale"), get("shift"));
    let mut state = side["seed"].as_u64().expect("seed");
    let mut values = Vec::with_capacity(n * d);
    for _ in 0..n {
        for j in 0..d {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            values.push(u * (1.0 + j as f64 * scale) + shift);
        }
    }
    Vectors::from_rows(d, values).expect("finite")
}

#[test]
fn fd_equals_pytorch_fid_and_torch_fidelity() {
    let g = goldens();
    let cases = g["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 3);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (a, b) = (Moments::of(&features(&case["a"])), Moments::of(&features(&case["b"])));
        assert!((a.mean()[0] - case["mean_a_0"].as_f64().unwrap()).abs() < 1e-15, "{name}");
        let d = a.dim();
        let trace: f64 = (0..d).map(|i| a.covariance().unwrap()[i * d + i]).sum();
        assert!((trace / case["trace_a"].as_f64().unwrap() - 1.0).abs() < 1e-12, "{name}");
        let fd = frechet_distance(&a.gaussian().unwrap(), &b.gaussian().unwrap()).unwrap();
        // metrics-tools (b): 1e-6 relative at full rank, 1e-4 when n < d (pytorch-fid's sqrtm
        // of a singular product is itself that far from the symmetric route)
        let tolerance = if name == "rank_deficient" { 1e-4 } else { 1e-6 };
        for reference in ["fd_pytorch_fid", "fd_torch_fidelity"] {
            let want = case[reference].as_f64().unwrap();
            assert!((fd / want - 1.0).abs() < tolerance, "{name}: {fd} against {reference} {want}");
        }
    }
}
