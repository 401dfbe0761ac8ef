//! `/metrics` in the Prometheus text format (prometheus-client): ingest answers by status,
//! request latency, and the webhook queue's depth (read from the database at scrape time).

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The label of the ingest counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

/// The collector's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    ingest: Family<StatusLabel, Counter>,
    latency: Histogram,
    queue: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let ingest = Family::<StatusLabel, Counter>::default();
        registry.register(
            "nps_ingest_responses",
            "POST /v1/responses answers, by HTTP status",
            ingest.clone(),
        );
        // 0.5 ms … about 8 s.
        let latency = Histogram::new(exponential_buckets(0.0005, 2.0, 15));
        registry.register(
            "nps_http_request_duration_seconds",
            "Time from request to response head, every route",
            latency.clone(),
        );
        let queue = Gauge::default();
        registry.register(
            "nps_webhook_queue_depth",
            "Stored changes waiting to be forwarded",
            queue.clone(),
        );
        Metrics {
            registry,
            ingest,
            latency,
            queue,
        }
    }
}

impl Metrics {
    /// Counts one ingest answer.
    pub fn ingested(&self, status: u16) {
        self.ingest.get_or_create(&StatusLabel { status }).inc();
    }

    /// Records one request's latency.
    pub fn observe(&self, seconds: f64) {
        self.latency.observe(seconds);
    }

    /// The text exposition, with the queue depth as just read.
    pub fn render(&self, queue_depth: i64) -> String {
        self.queue.set(queue_depth);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_each_metric_with_its_values() {
        let m = Metrics::default();
        m.ingested(201);
        m.ingested(201);
        m.ingested(400);
        m.observe(0.002);
        let text = m.render(7);
        assert!(
            text.contains("nps_ingest_responses_total{status=\"201\"} 2"),
            "{text}"
        );
        assert!(text.contains("nps_ingest_responses_total{status=\"400\"} 1"));
        assert!(text.contains("nps_webhook_queue_depth 7"));
        assert!(text.contains("nps_http_request_duration_seconds_count 1"));
        assert!(text.ends_with("# EOF\n"));
    }
}
