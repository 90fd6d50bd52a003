"""Goldens of the embedding metrics (issue 19): oracles/goldens/embeddings.json.

    oracles/.venv-embed/bin/python oracles/embedding_goldens.py

Environment: oracles/requirements-embed.txt (NumPy and SciPy, pinned; SciPy below 1.18).

FD: pytorch-fid 0.3.0's `calculate_frechet_distance` (src/pytorch_fid/fid_score.py),
re-typed line by line below because importing pytorch_fid imports torch; and torch-fidelity
0.4.0's trace, sum of Re sqrt(eigvals(sigma1 @ sigma2)) (torch_fidelity/metric_fid.py). The
features are made by an integer generator that the Rust test repeats (`features` below and
in crates/tailwatch-embed/tests/goldens.rs), so the golden file holds only sizes, seeds and
results; the statistics are NumPy's mean and np.cov(rowvar=False).
"""
import json
import sys
from pathlib import Path

import numpy as np
import scipy
from scipy import linalg

MASK = (1 << 64) - 1


def features(n, d, seed, scale, shift):
    """n x d values: a 64-bit LCG's top 53 bits as [-0.5, 0.5), times (1 + j * scale) + shift."""
    state = seed
    out = np.empty((n, d), dtype=np.float64)
    for i in range(n):
        for j in range(d):
            state = (state * 6364136223846793005 + 1442695040888963407) & MASK
            u = (state >> 11) / float(1 << 53) - 0.5
            out[i, j] = u * (1.0 + j * scale) + shift
    return out


def calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid 0.3.0 fid_score.calculate_frechet_distance, re-typed."""
    mu1 = np.atleast_1d(mu1)
    mu2 = np.atleast_1d(mu2)
    sigma1 = np.atleast_2d(sigma1)
    sigma2 = np.atleast_2d(sigma2)
    assert mu1.shape == mu2.shape
    assert sigma1.shape == sigma2.shape
    diff = mu1 - mu2
    # Product might be almost singular
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    # Numerical error might give slight imaginary component
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            m = np.max(np.abs(covmean.imag))
            raise ValueError("Imaginary component {}".format(m))
        covmean = covmean.real
    tr_covmean = np.trace(covmean)
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean


def torch_fidelity_fd(mu1, sigma1, mu2, sigma2):
    """torch-fidelity 0.4.0's FD: the trace as the sum of Re sqrt(eig(sigma1 sigma2))."""
    diff = mu1 - mu2
    eigenvalues = np.linalg.eigvals(sigma1 @ sigma2).astype(np.complex128)
    tr_covmean = np.sqrt(eigenvalues).real.sum()
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)


CASES = [
    # name, (n, d, seed, scale, shift) of each side; full rank (n >> d) and rank-deficient (n < d)
    ("full_rank_same_law", (400, 8, 1, 0.5, 0.0), (400, 8, 2, 0.5, 0.0)),
    ("full_rank_shifted_wider", (500, 12, 3, 0.25, 0.0), (300, 12, 4, 0.75, 0.3)),
    ("rank_deficient", (10, 16, 5, 0.5, 0.0), (12, 16, 6, 0.5, 0.1)),
]


def main(out):
    cases = []
    for name, a, b in CASES:
        xa, xb = features(*a), features(*b)
        mu_a, mu_b = xa.mean(axis=0), xb.mean(axis=0)
        s_a, s_b = np.cov(xa, rowvar=False), np.cov(xb, rowvar=False)
        cases.append({
            "name": name,
            "a": dict(zip(["n", "d", "seed", "scale", "shift"], a)),
            "b": dict(zip(["n", "d", "seed", "scale", "shift"], b)),
            "fd_pytorch_fid": float(calculate_frechet_distance(mu_a, s_a, mu_b, s_b)),
            "fd_torch_fidelity": torch_fidelity_fd(mu_a, s_a, mu_b, s_b),
            "trace_a": float(np.trace(s_a)),
            "mean_a_0": float(mu_a[0]),
        })
    doc = {
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__},
        "cases": cases,
    }
    Path(out).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "goldens" / "embeddings.json")
