//! `cargo xtask bench-web [RUNS] [--before=REV]`: the widget's cost to the host page in headless
//! Chromium (`tests/bench/web.mjs`: cold loads, main thread, memory), then the three page views
//! a site sees (`tests/bench/visits.mjs`: first, repeat, quiet). With `--before=REV`, that
//! revision's `dist/` is built in a worktree under `target/bench-before/` (its own target
//! directory, the same npm packages) and measured beside this one in the same run.

use std::path::{Path, PathBuf};

use crate::dist::{dist, Check};
use crate::{root, run, target_dir, Command, Result};

pub(crate) fn bench_web(args: &[String]) -> Result {
    let before = args.iter().find_map(|a| a.strip_prefix("--before="));
    let rest: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with("--before="))
        .collect();
    dist(Check::Warn)?;
    run(Command::new("node").arg("tests/bench/web.mjs").args(&rest))?;
    let mut visits = Command::new("node");
    visits.arg("tests/bench/visits.mjs").args(&rest);
    if let Some(rev) = before {
        visits.env("NPS_DIST_BEFORE", build_before(rev)?);
    }
    run(&mut visits)
}

/// `rev`'s `dist/`, built in a worktree (once per revision).
fn build_before(rev: &str) -> Result<PathBuf> {
    let dir = target_dir().join("bench-before");
    let tree = dir.join("src");
    let _ = run(Command::new("git")
        .args(["worktree", "remove", "--force"])
        .arg(&tree));
    run(Command::new("git")
        .args(["worktree", "add", "--force", "--detach"])
        .arg(&tree)
        .arg(rev))?;
    link_node_modules(&tree)?;
    run(Command::new("cargo")
        .args(["xtask", "dist"])
        .current_dir(&tree)
        .env("CARGO_TARGET_DIR", dir.join("target")))?;
    Ok(tree.join("dist"))
}

/// The worktree uses this checkout's npm packages (wasm-opt, terser, Rollup).
fn link_node_modules(tree: &Path) -> Result {
    let link = tree.join("node_modules");
    if link.exists() {
        return Ok(());
    }
    std::os::unix::fs::symlink(root().join("node_modules"), &link).map_err(|e| e.to_string())
}
