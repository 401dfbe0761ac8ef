//! `cargo xtask …`: build, measure, demo and test nps-widget with one command each.
//!
//! wasm-bindgen is linked in as a library at the exact version the widget pins, so there is no
//! separate CLI to install; the same binary is the wasm32 test runner.

use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench;
mod bench_web;
mod contract;
mod demo;
mod dist;
mod fallback;
mod hashed;
mod minify;
mod seed;
mod setup;
mod size;
mod test;

use demo::demo;
use dist::{dist, Check};
use setup::setup;
use size::size;
use test::{e2e, screenshots, test};

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dist") => dist(Check::Full).map(|_| ()),
        Some("size") => size(),
        Some("demo") => demo(&args[1..]),
        Some("demo-check") => demo::check(),
        Some("test") => test(),
        Some("bench-collector") => bench::bench_collector(&args[1..]),
        Some("bench-reports") => bench::bench_reports(&args[1..]),
        Some("bench-web") => bench_web::bench_web(&args[1..]),
        Some("e2e") => dist(Check::Warn).and_then(|_| e2e()),
        Some("contract") => test::build_collector().and_then(|c| contract::contract(&c)),
        Some("screenshots") => screenshots(),
        Some("setup") => setup(),
        // The pinned wasm-bindgen CLI, for size experiments on other builds.
        Some("wasm-bindgen") => {
            let mut bindgen_args = vec!["wasm-bindgen".to_string()];
            bindgen_args.extend(args[1..].iter().cloned());
            wasm_bindgen_cli::wasm_bindgen::run_cli_with_args(bindgen_args)
                .map_err(|e| e.to_string())
        }
        Some("wasm-test-runner") => {
            let mut runner_args = vec!["wasm-bindgen-test-runner".to_string()];
            runner_args.extend(args[1..].iter().cloned());
            wasm_bindgen_cli::wasm_bindgen_test_runner::run_cli_with_args(runner_args)
                .map_err(|e| e.to_string())
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  demo [--empty] [COLLECTOR ARGS]\n         build the widget, start the collector with the demo page and a sample B2B base (--empty: none)\n  \
                 demo-check\n         seed the demo's sample into a throwaway collector and check every report has something to show\n  \
                 test   every check: fmt, clippy (native + wasm32), unit, browser and end-to-end tests\n  \
                 dist   build dist/ (loader, glue, wasm, types, package.json) and check the size budget\n  \
                 size   print the size of every file a page downloads\n  \
                 e2e    build and run only the end-to-end tests\n  \
                 contract\n         the API contract: collector/openapi.json validated, a live collector fuzzed against it (schemathesis) on SQLite and PostgreSQL\n  \
                 screenshots\n         the end-to-end tests, writing the README's screenshots to docs/screenshots/\n  \
                 bench-web [RUNS] [--before=REV]\n         the widget's main-thread cost and memory in headless Chromium (20), then the first, repeat and quiet page views, beside REV's build\n  \
                 bench-collector [N] [CONNECTIONS] [SUSTAINED_N]\n         load figure of the collector on SQLite and PostgreSQL, then grown from empty on SQLite (100000, 64, 1200000)\n  \
                 bench-reports [SQLITE_N] [POSTGRES_N]\n         report times and peak RSS, a B2B base and a returning one (1200000, 1200000)\n  \
                 setup  install what the tests need (wasm32 target, npm packages, Chromium)"
            );
            Err("no command".into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn run(cmd: &mut Command) -> Result {
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("could not start {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn cargo() -> Command {
    Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The workspace's target directory (`CARGO_TARGET_DIR` when set): the one place it is found.
fn target_dir() -> PathBuf {
    env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"))
}
