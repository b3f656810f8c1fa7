//! Distributions that only claim what their sample count supports: a p99 needs at
//! least 100 samples; with fewer, the maximum is given instead and says so.

use serde_json::{Value, json};

/// The fewest samples a 99th percentile is printed from.
pub const P99_MIN_SAMPLES: usize = 100;

/// A summary of samples in milliseconds.
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub p50: f64,
    pub p99: Option<f64>,
    pub max: f64,
}

impl Summary {
    /// `None` for no samples.
    pub fn of(samples: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|s| s.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        // Nearest rank: the smallest sample with at least q of all samples at or below it.
        let rank = |q: f64| sorted[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        (n > 0).then(|| Self {
            n,
            min: sorted[0],
            p50: rank(0.5),
            p99: (n >= P99_MIN_SAMPLES).then(|| rank(0.99)),
            max: sorted[n - 1],
        })
    }

    /// `p50 0.120 ms, p99 0.359 ms, max 4.15 ms (n = 250)`, or with fewer than 100
    /// samples `median 0.120 ms, max 4.15 ms (n = 40: too few for a p99)`.
    pub fn text(&self) -> String {
        match self.p99 {
            Some(p99) => {
                format!("p50 {} ms, p99 {} ms, max {} ms (n = {})", ms(self.p50), ms(p99), ms(self.max), self.n)
            }
            None => format!("median {} ms, max {} ms (n = {}: too few for a p99)", ms(self.p50), ms(self.max), self.n),
        }
    }

    pub fn json(&self) -> Value {
        json!({ "samples": self.n, "min_ms": self.min, "p50_ms": self.p50, "p99_ms": self.p99, "max_ms": self.max })
    }
}

/// `Summary::of(samples)` as JSON, `null` without samples.
pub fn json_of(samples: &[f64]) -> Value {
    Summary::of(samples).map_or(Value::Null, |s| s.json())
}

/// `Summary::of(samples)` as text, `no samples` without any.
pub fn text_of(samples: &[f64]) -> String {
    Summary::of(samples).map_or_else(|| "no samples".into(), |s| s.text())
}

/// The median of a few repeated measurements (lower middle for an even count).
pub fn median(samples: &[f64]) -> f64 {
    Summary::of(samples).map_or(f64::NAN, |s| s.p50)
}

/// Three significant digits, at least as fine as microseconds.
pub fn ms(value: f64) -> String {
    match value.abs() {
        v if v >= 100.0 => format!("{value:.1}"),
        v if v >= 10.0 => format!("{value:.2}"),
        _ => format!("{value:.3}"),
    }
}
