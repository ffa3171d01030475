//! Order statistics used across the report.
//!
//! Median: the middle value, or the midpoint of the two middle values.
//! p90: nearest rank (the smallest value with at least 90% of the sample at
//! or below it), so it is always a value that occurred.

/// A value of a sample: seconds as `f64`, or as `u32` where millions of
/// them are held at once (lead times: half the memory).
pub trait Sample: Copy {
    fn order(&self, other: &Self) -> std::cmp::Ordering;
    fn value(self) -> f64;
}

impl Sample for f64 {
    fn order(&self, other: &Self) -> std::cmp::Ordering {
        self.total_cmp(other)
    }

    fn value(self) -> f64 {
        self
    }
}

impl Sample for u32 {
    fn order(&self, other: &Self) -> std::cmp::Ordering {
        self.cmp(other)
    }

    fn value(self) -> f64 {
        f64::from(self)
    }
}

/// Median of `values` (reordered in place, in linear time: 2.5 million
/// lead times at 50,000 records took 0.1 s to sort); None when empty.
pub fn median<T: Sample>(values: &mut [T]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (below, &mut upper, _) = values.select_nth_unstable_by(n / 2, T::order);
    Some(if n % 2 == 1 {
        upper.value()
    } else {
        // The largest of the lower half is the other middle value.
        let lower = below.iter().copied().max_by(T::order).unwrap_or(upper);
        (lower.value() + upper.value()) / 2.0
    })
}

/// Nearest-rank percentile `p` (0–100) of `values` (reordered in place).
pub fn percentile<T: Sample>(values: &mut [T], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    let at = rank.clamp(1, values.len()) - 1;
    Some(values.select_nth_unstable_by(at, T::order).1.value())
}

/// The mean, summed in the order given (the same order, the same bits).
pub fn mean<T: Sample>(values: &[T]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().map(|v| v.value()).sum::<f64>() / values.len() as f64)
    }
}

/// `num / den`, None when `den` is 0.
pub fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_and_p90() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median::<f64>(&mut []), None);
        // 10 values: rank ceil(0.9 * 10) = 9 → the 9th smallest.
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 90.0), Some(9.0));
        // 3 values: rank ceil(2.7) = 3 → the largest.
        assert_eq!(percentile(&mut [5.0, 1.0, 3.0], 90.0), Some(5.0));
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
        assert_eq!(ratio(1, 4), Some(0.25));
        assert_eq!(ratio(1, 0), None);
    }

    #[test]
    fn whole_seconds_give_the_same_figures() {
        let secs: Vec<u32> = vec![7, 1, 4, 10, 2, 3];
        let as_f64: Vec<f64> = secs.iter().map(|s| f64::from(*s)).collect();
        assert_eq!(median(&mut secs.clone()), median(&mut as_f64.clone()));
        assert_eq!(median(&mut secs.clone()), Some(3.5));
        assert_eq!(
            percentile(&mut secs.clone(), 90.0),
            percentile(&mut as_f64.clone(), 90.0)
        );
        assert_eq!(mean(&secs), mean(&as_f64));
        assert_eq!(median::<u32>(&mut []), None);
    }

    /// The same values as sorting gives, on samples of every size up to 200
    /// with repeats (selection, not a sort, finds them).
    #[test]
    fn order_statistics_equal_those_of_a_sorted_sample() {
        let mut x: u64 = 42;
        for n in 1..200usize {
            let sample: Vec<f64> = (0..n)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((x >> 33) % 50) as f64
                })
                .collect();
            let mut sorted = sample.clone();
            sorted.sort_by(f64::total_cmp);
            let mid = if n % 2 == 1 {
                sorted[n / 2]
            } else {
                (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
            };
            assert_eq!(median(&mut sample.clone()), Some(mid), "n={n}");
            for p in [50.0, 90.0, 99.0, 100.0] {
                let rank = ((p / 100.0) * n as f64).ceil() as usize;
                let want = sorted[rank.clamp(1, n) - 1];
                assert_eq!(
                    percentile(&mut sample.clone(), p),
                    Some(want),
                    "n={n} p={p}"
                );
            }
        }
    }
}
