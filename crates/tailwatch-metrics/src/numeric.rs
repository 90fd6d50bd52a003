//! Small numeric helpers shared by metrics: exact float summation, regression, rounding.

/// Exactly rounded sum of floats (Shewchuk's algorithm, as Python's `math.fsum`), so results do
/// not depend on summation order.
pub fn fsum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    for mut x in values {
        let mut i = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        partials.truncate(i);
        partials.push(x);
    }
    // Python's final step: sum the partials from the top with half-way correction.
    let mut n = partials.len();
    if n == 0 {
        return 0.0;
    }
    n -= 1;
    let mut hi = partials[n];
    let mut lo = 0.0;
    while n > 0 {
        let x = hi;
        n -= 1;
        let y = partials[n];
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        let yr = x - hi;
        if y == yr {
            hi = x;
        }
    }
    hi
}

/// Least-squares line fit `y = intercept + slope·x`: returns `(slope, r)` like
/// `scipy.stats.linregress`. `None` with fewer than 2 points or constant `x`.
pub fn linregress(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len();
    if n < 2 || n != y.len() {
        return None;
    }
    let nf = n as f64;
    let xmean = x.iter().sum::<f64>() / nf;
    let ymean = y.iter().sum::<f64>() / nf;
    let (mut ssxm, mut ssym, mut ssxym) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - xmean, b - ymean);
        ssxm += dx * dx;
        ssym += dy * dy;
        ssxym += dx * dy;
    }
    if ssxm == 0.0 {
        return None;
    }
    let slope = ssxym / ssxm;
    let r = if ssym == 0.0 { 0.0 } else { (ssxym / (ssxm * ssym).sqrt()).clamp(-1.0, 1.0) };
    Some((slope, r))
}

/// Python's `round(x, digits)` for the values metrics produce (round half to even on the exact
/// binary value, which Rust's formatting also does).
pub fn py_round(x: f64, digits: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    format!("{x:.digits$}").parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsum_is_exact() {
        assert_eq!(fsum([1e100, 1.0, -1e100]), 1.0);
        assert_eq!(fsum([0.1; 10]), 1.0);
        assert_eq!(fsum([]), 0.0);
    }

    #[test]
    fn rounding_like_python() {
        assert_eq!(py_round(2.675, 2), 2.67); // 2.675 is below the tie in binary
        assert_eq!(py_round(0.125, 2), 0.12); // exact tie: half to even
        assert_eq!(py_round(3.2534, 3), 3.253);
    }

    #[test]
    fn regression_recovers_a_line() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [3.0, 5.0, 7.0, 9.0];
        let (slope, r) = linregress(&x, &y).unwrap();
        assert!((slope - 2.0).abs() < 1e-12 && (r - 1.0).abs() < 1e-12);
    }
}
