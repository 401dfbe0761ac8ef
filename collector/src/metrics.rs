//! `/metrics` in the Prometheus text format (prometheus-client): ingest answers by status,
//! request latency, and the webhook queue's depth, the CRM sync's and retention's state (read
//! from the database at scrape time).

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
    crm_backlog: Gauge,
    crm_refused: Gauge,
    crm_success: Gauge,
    crm_error: Gauge,
    retain_at: Gauge,
    retain_responses: Gauge,
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
        let [crm_backlog, crm_refused, crm_success, crm_error] = [(); 4].map(|()| Gauge::default());
        for (name, help, gauge) in [
            (
                "nps_crm_backlog",
                "Accounts, people and answers waiting for the CRM",
                &crm_backlog,
            ),
            (
                "nps_crm_refused",
                "Items the CRM refused, kept with its answer",
                &crm_refused,
            ),
            (
                "nps_crm_last_success_timestamp_seconds",
                "When the CRM last took a batch (0: never)",
                &crm_success,
            ),
            (
                "nps_crm_last_error_timestamp_seconds",
                "When the CRM last failed or refused (0: never)",
                &crm_error,
            ),
        ] {
            registry.register(name, help, gauge.clone());
        }
        let [retain_at, retain_responses] = [(); 2].map(|()| Gauge::default());
        registry.register(
            "nps_retention_last_run_timestamp_seconds",
            "When retention (--retain-days) last ran (0: never)",
            retain_at.clone(),
        );
        registry.register(
            "nps_retention_last_anonymised_responses",
            "Responses the last retention run anonymised",
            retain_responses.clone(),
        );
        Metrics {
            registry,
            ingest,
            latency,
            queue,
            crm_backlog,
            crm_refused,
            crm_success,
            crm_error,
            retain_at,
            retain_responses,
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

    /// The CRM sync's state as just read (`--crm`).
    pub fn crm(&self, status: &crate::model::CrmStatus) {
        let seconds = |at: &Option<String>| {
            at.as_deref()
                .and_then(|t| {
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .map_or(0, |t| t.unix_timestamp())
        };
        self.crm_backlog.set(status.backlog);
        self.crm_refused.set(status.refused);
        self.crm_success.set(seconds(&status.last_success_at));
        self.crm_error.set(seconds(&status.last_error_at));
    }

    /// Retention's last run as just read (`--retain-days`).
    pub fn retention(&self, run: Option<&crate::store::ChoreRun>) {
        let at = run.and_then(|r| crate::clock::parse_ms(&r.at)).unwrap_or(0);
        let anonymised = run
            .and_then(|r| serde_json::from_str::<crate::store::Retained>(&r.result).ok())
            .map_or(0, |r| r.responses as i64);
        self.retain_at.set(at / 1000);
        self.retain_responses.set(anonymised);
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
