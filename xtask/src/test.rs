//! `cargo xtask test` (every check, in the order that fails fastest), `cargo xtask e2e`, and
//! `cargo xtask screenshots` (the end-to-end tests, writing docs/screenshots/ as they go).

use super::*;
use crate::dist::plain_dist;

pub(crate) fn build_collector() -> Result<PathBuf> {
    run(cargo().args(["build", "--release", "--package", "nps-collector"]))?;
    Ok(target_dir().join("release/nps-collector"))
}

pub(crate) fn e2e() -> Result {
    end_to_end(false)
}

/// The end-to-end tests, which also write the README's screenshots: the only run that
/// changes tracked files.
pub(crate) fn screenshots() -> Result {
    dist(Check::Warn)?;
    end_to_end(true)
}

fn end_to_end(screenshots: bool) -> Result {
    let collector = build_collector()?;
    let mut node = Command::new("node");
    node.args([
        "--test",
        "--test-concurrency=1",
        "tests/node/",
        "tests/e2e/",
    ])
    .env("NPS_COLLECTOR", collector);
    if screenshots {
        node.env("NPS_SCREENSHOTS", "1");
    } else {
        node.env_remove("NPS_SCREENSHOTS");
    }
    run(&mut node)
}

/// Every check, in the order that fails fastest.
pub(crate) fn test() -> Result {
    setup()?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    // The JavaScript that ships (loader, NpsWidget class, card, dashboard) and the tests.
    run(Command::new("node")
        .arg(root().join("node_modules/eslint/bin/eslint.js"))
        .arg(root()))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().args([
        "clippy",
        "--package",
        "nps-widget",
        "--all-targets",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().args(["test", "--workspace"]))?;
    let me = env::current_exe().map_err(|e| e.to_string())?;
    let runner = format!("{} wasm-test-runner", me.display());
    run(cargo()
        .args([
            "test",
            "--package",
            "nps-widget",
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            "web",
        ])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", runner))?;
    // The size budget (what a page downloads, gzip) fails the tests too.
    dist(Check::Budget)?;
    // The shipped types: the README's ES-module use type-checks, misuse does not.
    run(Command::new("node")
        .arg(root().join("node_modules/typescript/bin/tsc"))
        .args(["-p", "tests/types"]))?;
    e2e()?;
    // The demo's sample base, seeded through the API into a throwaway collector (seconds).
    crate::demo::check()?;
    // The plain stable build (no build-std) answers and delivers the same.
    let collector = build_collector()?;
    // The API's contract: the document validated, a live collector fuzzed against it.
    crate::contract::contract(&collector)?;
    run(Command::new("node")
        .args(["--test", "tests/e2e/slice.test.mjs"])
        .env("NPS_COLLECTOR", collector)
        .env("NPS_DIST", plain_dist()))?;
    println!("xtask test: all checks passed");
    Ok(())
}
