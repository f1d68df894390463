//! [`OpTimes`]: where the CKKS backend's evaluation time goes, per IR operation (count and
//! wall time), so a run's report can say how much of an image is bootstrapping, rotations or
//! products without a profiler.

use std::collections::BTreeMap;
use std::time::Duration;

/// Count and total wall time of one operation kind.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OpTime {
    /// Number of operations (a hoisted group counts once).
    pub count: u64,
    /// Their total wall time.
    pub total: Duration,
}

/// Per-operation times, by the IR mnemonic (`rotate`, `bootstrap`, ...).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpTimes {
    ops: BTreeMap<&'static str, OpTime>,
}

impl OpTimes {
    /// Adds one operation `op` that took `elapsed`.
    pub fn record(&mut self, op: &'static str, elapsed: Duration) {
        let entry = self.ops.entry(op).or_default();
        entry.count += 1;
        entry.total += elapsed;
    }

    /// Every operation kind seen, by mnemonic.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, OpTime)> + '_ {
        self.ops.iter().map(|(&op, &time)| (op, time))
    }

    /// The time of all operations.
    pub fn total(&self) -> Duration {
        self.ops.values().map(|t| t.total).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_count_and_time_per_operation() {
        let mut times = OpTimes::default();
        times.record("rotate", Duration::from_millis(3));
        times.record("rotate", Duration::from_millis(4));
        times.record("bootstrap", Duration::from_millis(10));
        let rotate = times.iter().find(|(op, _)| *op == "rotate").unwrap().1;
        assert_eq!(rotate.count, 2);
        assert_eq!(rotate.total, Duration::from_millis(7));
        assert_eq!(times.total(), Duration::from_millis(17));
    }
}
