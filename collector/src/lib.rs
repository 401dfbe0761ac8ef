//! The reference collector: receives nps-widget responses, stores them durably, reports
//! what a team acts on (every report an SQL aggregate), forwards each change to a webhook, and
//! serves the dashboard, the demo page and the widget's files.
//!
//! The crate's map:
//! - [`settings`]: every setting; [`start`]: the server's start and graceful stop.
//! - [`http`]: the routes, one file per resource, the typed errors, the token extractor.
//! - [`store`]: the database (SQLite or PostgreSQL), one file per concern.
//! - [`model`]: the types both share; [`clock`]: dates and times.
//! - [`report`], [`chart`], [`export`]: shaping the database's counts into reports, the
//!   trend's SVG and CSV; [`stats`]: margins of error and comparisons; [`themes`]: comment
//!   themes.
//! - [`forward`]: the webhook; [`limit`], [`proxy`], [`server`], [`metrics`]: serving in the
//!   open (rate limit, trusted proxies, connection limits and timeouts, OpenMetrics).
//! - [`import`]: a CRM's account export (CSV) read into account records, bad rows named.
//! - [`crm`]: the CRM sync (HubSpot, Salesforce), each a sink fed by the claimed queue the
//!   writer fills, and the import of accounts from either.
//! - [`survey`]: the surveys the dashboard manages, their definitions checked by the widget's
//!   own reader.
//! - [`team`]: roles and tokens; [`identity`]: the site's signature of who answers.
//! - [`link`]: signed personal links; [`reach`]: the email block, the hosted page, the alert
//!   texts; [`notify`]: detractor alerts and the digest in the team's chat.

#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![warn(unreachable_pub)]

pub mod chart;
pub mod clock;
pub mod crm;
pub mod export;
pub mod forward;
pub mod http;
pub mod identity;
pub mod import;
pub mod limit;
pub mod link;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod proxy;
pub mod reach;
pub mod report;
pub mod server;
pub mod settings;
pub mod start;
pub mod stats;
pub mod store;
pub mod survey;
pub mod team;
pub mod themes;

pub use settings::Settings;
pub use start::{run, serve};
pub use store::{Backend, Store};
