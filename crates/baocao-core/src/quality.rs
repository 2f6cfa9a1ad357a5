//! Data quality (chất lượng số liệu): how a figure compares with its own
//! unit's history, the gaps of a series, and a unit's score for a period.
//!
//! Outliers follow the modified z-score of Iglewicz and Hoaglin, as DHIS2's
//! outlier detection does: `0.6745 (x − median) / MAD`, where MAD is the
//! median absolute deviation of the history, and a value is an outlier
//! beyond 3.5. The same threshold gives each value its expected bounds
//! (`median ± 3.5 MAD / 0.6745`), the min–max a person reads. Robust: one
//! wild month in the history barely moves the median or the MAD, where it
//! would move a mean and a standard deviation.

/// Beyond this modified z-score a value is an outlier (Iglewicz–Hoaglin).
pub const OUTLIER_Z: f64 = 3.5;

/// Fewer earlier values than this tell nothing about a series.
pub const LEAST_HISTORY: usize = 6;

/// The scale factor of the modified z-score: MAD / 0.6745 estimates the
/// standard deviation of normally distributed data.
const MAD_SCALE: f64 = 0.6745;

/// What a unit's history says a value should be near.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

impl Bounds {
    /// The bounds from earlier values (any order); none when too few, or
    /// when they do not vary (a MAD of zero gives no scale to judge by).
    pub fn from_history(history: &[f64]) -> Option<Bounds> {
        if history.len() < LEAST_HISTORY {
            return None;
        }
        let middle = median_of(history.to_vec());
        let mad = median_of(history.iter().map(|v| (v - middle).abs()).collect());
        if mad <= 0.0 || !mad.is_finite() {
            return None;
        }
        let reach = OUTLIER_Z * mad / MAD_SCALE;
        Some(Bounds { median: middle, low: middle - reach, high: middle + reach })
    }

    /// The value's modified z-score against these bounds.
    pub fn z(&self, value: f64) -> f64 {
        let mad = (self.high - self.median) * MAD_SCALE / OUTLIER_Z;
        MAD_SCALE * (value - self.median) / mad
    }

    /// Whether the value lies outside the bounds.
    pub fn outlier(&self, value: f64) -> bool {
        value < self.low || value > self.high
    }
}

fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

/// The periods missing inside a series: of `present` (one flag a period,
/// oldest first), those without a value after the first with one. A series
/// that starts late (a new indicator, a new unit) has no gap before it.
pub fn gaps(present: &[bool]) -> usize {
    present.iter().skip_while(|p| !**p).filter(|p| !**p).count()
}

/// A unit's quality score for a period, 0–100: the share of the values it
/// should report that are there and raise no question (neither outlier
/// nor breaking a rule). None when nothing is expected.
pub fn score(expected: usize, missing: usize, questioned: usize) -> Option<f64> {
    (expected > 0).then(|| {
        let good = expected.saturating_sub(missing + questioned);
        100.0 * good as f64 / expected as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_follow_the_median_and_the_mad() {
        // Median 100; deviations 0,2,2,4,4,6,6 → MAD 4; reach 3.5·4/0.6745.
        let history = [100.0, 98.0, 102.0, 96.0, 104.0, 94.0, 106.0];
        let b = Bounds::from_history(&history).unwrap();
        assert_eq!(b.median, 100.0);
        let reach = 3.5 * 4.0 / 0.6745;
        assert!((b.high - (100.0 + reach)).abs() < 1e-9 && (b.low - (100.0 - reach)).abs() < 1e-9);
        assert!(!b.outlier(115.0) && b.outlier(125.0) && b.outlier(70.0));
        assert!((b.z(125.0) - 0.6745 * 25.0 / 4.0).abs() < 1e-9);
        // One wild month in the history barely moves them.
        let wild = [100.0, 98.0, 102.0, 96.0, 104.0, 94.0, 10_000.0];
        let w = Bounds::from_history(&wild).unwrap();
        assert!(w.outlier(150.0), "{w:?}");
    }

    #[test]
    fn too_short_or_flat_histories_judge_nothing() {
        assert_eq!(Bounds::from_history(&[1.0, 2.0, 3.0]), None);
        assert_eq!(Bounds::from_history(&[5.0; 12]), None);
    }

    #[test]
    fn gaps_count_only_after_a_series_starts() {
        assert_eq!(gaps(&[false, false, true, false, true, false]), 2);
        assert_eq!(gaps(&[false, false]), 0);
        assert_eq!(gaps(&[true, true, true]), 0);
    }

    #[test]
    fn a_score_is_the_share_of_good_values() {
        assert_eq!(score(10, 2, 1), Some(70.0));
        assert_eq!(score(4, 0, 0), Some(100.0));
        assert_eq!(score(2, 2, 1), Some(0.0));
        assert_eq!(score(0, 0, 0), None);
    }
}
