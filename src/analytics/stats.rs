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

/// One sample held in several lists (lead times, one list for each
/// service): its order statistics without joining them into one list, which
/// held millions of values twice.
pub struct Parts<'a>(pub &'a [Vec<u32>]);

impl Parts<'_> {
    /// How many values.
    pub fn count(&self) -> usize {
        self.0.iter().map(Vec::len).sum()
    }

    fn values(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().flatten().copied()
    }

    /// [`median`] of the whole sample.
    pub fn median(&self) -> Option<f64> {
        let n = self.count();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(f64::from(self.nth(&[n / 2])[0])),
            _ => {
                let [lower, upper] = self.nth(&[n / 2 - 1, n / 2])[..] else {
                    return None;
                };
                Some((f64::from(lower) + f64::from(upper)) / 2.0)
            }
        }
    }

    /// [`percentile`] of the whole sample.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        Some(f64::from(self.nth(&[rank.clamp(1, n) - 1])[0]))
    }

    /// [`mean`] of the lists one after the other (the same order, the same
    /// bits as the mean of the joined list).
    pub fn mean(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| self.values().map(f64::from).sum::<f64>() / n as f64)
    }

    /// The `k`-th smallest value (from 0) for each of `ks` (each below
    /// `count()`): a radix selection, counting the values by their high 16
    /// bits, then the low 16 bits of those in the bucket of each `k`. Two
    /// reads of the sample, nothing reordered or copied.
    fn nth(&self, ks: &[usize]) -> Vec<u32> {
        const BUCKETS: usize = 1 << 16;
        let mut high = vec![0usize; BUCKETS];
        for v in self.values() {
            high[(v >> 16) as usize] += 1;
        }
        // The bucket of each k, and its rank there.
        let located: Vec<(usize, usize)> = ks
            .iter()
            .map(|&k| {
                let mut before = 0;
                for (bucket, &count) in high.iter().enumerate() {
                    if before + count > k {
                        return (bucket, k - before);
                    }
                    before += count;
                }
                (BUCKETS - 1, k - before)
            })
            .collect();
        let mut buckets: Vec<usize> = located.iter().map(|(b, _)| *b).collect();
        buckets.sort_unstable();
        buckets.dedup();
        let mut low = vec![vec![0usize; BUCKETS]; buckets.len()];
        for v in self.values() {
            if let Ok(j) = buckets.binary_search(&((v >> 16) as usize)) {
                low[j][(v & 0xffff) as usize] += 1;
            }
        }
        located
            .iter()
            .map(|&(bucket, rank)| {
                let counts = &low[buckets.binary_search(&bucket).unwrap_or(0)];
                let mut before = 0;
                let mut at = BUCKETS - 1;
                for (l, &count) in counts.iter().enumerate() {
                    if before + count > rank {
                        at = l;
                        break;
                    }
                    before += count;
                }
                ((bucket as u32) << 16) | at as u32
            })
            .collect()
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

    /// A sample in several lists gives the figures of the joined list, on
    /// samples of every size up to 300 split in 1 to 4 lists (some empty),
    /// with repeats and values across the 16-bit buckets.
    #[test]
    fn parts_give_the_figures_of_the_joined_sample() {
        let mut x: u64 = 7;
        let mut next = move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        for n in 0..300usize {
            let lists = 1 + n % 4;
            let mut parts: Vec<Vec<u32>> = vec![Vec::new(); lists];
            for i in 0..n {
                // Small values, and large ones in few high buckets.
                let v = match next() % 3 {
                    0 => (next() % 40) as u32,
                    1 => (next() % 4) as u32 * 65_536 + (next() % 70_000) as u32,
                    _ => u32::MAX - (next() % 3) as u32,
                };
                parts[(i * 7 + n) % lists].push(v);
            }
            let mut joined: Vec<u32> = parts.iter().flatten().copied().collect();
            let whole = Parts(&parts);
            assert_eq!(whole.count(), n);
            assert_eq!(whole.mean(), mean(&joined), "n={n}");
            for p in [1.0, 50.0, 90.0, 100.0] {
                assert_eq!(
                    whole.percentile(p),
                    percentile(&mut joined, p),
                    "n={n} p={p}"
                );
            }
            assert_eq!(whole.median(), median(&mut joined), "n={n}");
        }
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
