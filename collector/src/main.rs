//! `nps-collector`: flags with environment fallbacks, then serve.

use std::path::PathBuf;
use std::process::ExitCode;

use nps_collector::Settings;

const USAGE: &str = "usage: nps-collector [--listen ADDR] [--db URL] [--static DIR]... [--allow-origin ORIGIN]... [--token TOKEN] [--rate-limit N] [--forward URL]

  --listen        address to listen on (NPS_LISTEN; default 127.0.0.1:8080)
  --db            sqlite://FILE or postgres://USER@HOST/DB (NPS_DB; default sqlite://nps.db)
  --static        directory served at / (repeatable; NPS_STATIC, colon-separated)
  --allow-origin  origin allowed to post from another site (repeatable; NPS_ALLOW_ORIGIN, comma-separated)
  --token         bearer token for the read API and dashboard (NPS_TOKEN; default: open, for local use)
  --rate-limit    responses accepted per client address per minute, 0 for no limit (NPS_RATE_LIMIT; default 600)
  --forward       http:// webhook each stored change is also POSTed to, with retries (NPS_FORWARD)";

fn settings() -> Result<Settings, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut listen = env("NPS_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".into());
    let mut db = env("NPS_DB").unwrap_or_else(|| "sqlite://nps.db".into());
    let mut static_dirs: Vec<PathBuf> = env("NPS_STATIC")
        .map(|v| v.split(':').map(PathBuf::from).collect())
        .unwrap_or_default();
    let mut allow_origins: Vec<String> = env("NPS_ALLOW_ORIGIN")
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default();
    let mut token = env("NPS_TOKEN");
    let mut forward = env("NPS_FORWARD");
    let mut rate_limit = env("NPS_RATE_LIMIT").unwrap_or_else(|| "600".into());
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--listen" => listen = value()?,
            "--db" => db = value()?,
            "--static" => static_dirs.push(PathBuf::from(value()?)),
            "--allow-origin" => allow_origins.push(value()?),
            "--token" => token = Some(value()?),
            "--rate-limit" => rate_limit = value()?,
            "--forward" => forward = Some(value()?),
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    let listen = listen
        .parse()
        .map_err(|_| format!("--listen {listen}: expected an address like 127.0.0.1:8080"))?;
    if !["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|p| db.starts_with(p))
    {
        return Err(format!(
            "--db {db}: expected sqlite://FILE or postgres://USER@HOST/DB"
        ));
    }
    if let Some(url) = &forward {
        nps_collector::forward::Target::parse(url)?;
    }
    let rate_limit = rate_limit.parse().map_err(|_| {
        format!("--rate-limit {rate_limit}: expected a whole number of responses per minute")
    })?;
    for dir in &static_dirs {
        if !dir.is_dir() {
            return Err(format!("--static {}: not a directory", dir.display()));
        }
    }
    Ok(Settings {
        listen,
        db,
        static_dirs,
        allow_origins,
        token,
        rate_limit,
        forward,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nps-collector: {e}");
            return ExitCode::from(2);
        }
    };
    match nps_collector::serve(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nps-collector: {e}");
            ExitCode::FAILURE
        }
    }
}
