//! `cargo xtask size` and the budget every `dist` checks: raw, gzip and brotli sizes of
//! what a page downloads, against the budgets and the peer.

use super::*;
use crate::dist::{plain_dist, Built};

/// The size budget for everything a page with WebAssembly downloads for the widget: the
/// measured total, rounded up to the next 256 B, so that any growth fails. It was 47,360 B (the
/// widget on its own stack, 47,285 B) until the in-app targeting rules of issue 22 (pages,
/// events, audience, the waits, debug's lines: 51,738 B after every design cut found), then
/// the surveys managed in the dashboard of issue 23 (`survey_url`: 54,075 B), then one outbox
/// key per state of a response, so that a tab delivering an earlier state cannot remove the
/// later one another tab just wrote (54,441 B); what each costs, what paid and what did not:
/// docs/PERFORMANCE.md.
pub(crate) const BUDGET_GZIP: u64 = 54_528;

/// The budget of the plain stable build (no build-std), which `dist` ships where the size step
/// fails: its measured total (58,238 B with the targeting rules and `survey_url`, 58,558 B
/// with an outbox key per state), rounded up the same way.
pub(crate) const PLAIN_BUDGET_GZIP: u64 = 58_624;

pub(crate) fn gzip_len(bytes: &[u8]) -> u64 {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail").len() as u64
}

/// Prints raw and gzip sizes of every downloaded file and fails over the budget.
/// Brotli (quality 11) size of a file, through Node's zlib (no Rust brotli crate needed).
pub(crate) fn brotli_len(path: &Path) -> Result<u64> {
    let out = Command::new("node")
        .args([
            "-e",
            "const z=require('zlib');process.stdout.write(String(z.brotliCompressSync(\
             require('fs').readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length))",
        ])
        .arg(path)
        .output()
        .map_err(|e| format!("node (for brotli sizes): {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("brotli size of {}", path.display()))
}

/// The peer we compare with: `@formbricks/surveys` (its `dist/index.umd.js`, the renderer that
/// peer loads on top of its SDK), fetched once by npm into `target/peer`.
pub(crate) const PEER: &str = "@formbricks/surveys@1.99.0";

pub(crate) fn peer_file() -> Result<PathBuf> {
    let dir = root().join("target/peer");
    let file = dir.join("package/dist/index.umd.js");
    if file.exists() {
        return Ok(file);
    }
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let packed = Command::new("npm")
        .args(["pack", PEER, "--silent", "--pack-destination"])
        .arg(&dir)
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("npm pack {PEER}: {e}"))?;
    let tarball = String::from_utf8_lossy(&packed.stdout).trim().to_owned();
    if !packed.status.success() || tarball.is_empty() {
        return Err(format!("npm pack {PEER} failed"));
    }
    run(Command::new("tar")
        .arg("xzf")
        .arg(dir.join(&tarball))
        .arg("-C")
        .arg(&dir))?;
    Ok(file)
}

pub(crate) fn report(built: &Built, check: Check) -> Result {
    let dist = root().join("dist");
    println!(
        "{:<48} {:>9} {:>9} {:>9}",
        "file", "raw", "gzip -9", "brotli"
    );
    let mut total = 0;
    let mut total_raw = 0;
    let mut total_br = 0;
    for f in &built.downloads {
        let bytes = fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let gz = gzip_len(&bytes);
        let br = brotli_len(f)?;
        total += gz;
        total_raw += bytes.len() as u64;
        total_br += br;
        let name = f.strip_prefix(&dist).unwrap_or(f).display().to_string();
        println!("{name:<48} {:>9} {gz:>9} {br:>9}", bytes.len());
    }
    println!(
        "{:<48} {total_raw:>9} {total:>9} {total_br:>9}",
        "total (what a page downloads)"
    );
    let mut plain_total = None;
    if !built.plain.is_empty() {
        let (mut raw, mut gz, mut br) = (0, 0, 0);
        for f in &built.plain {
            let bytes = fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
            raw += bytes.len() as u64;
            gz += gzip_len(&bytes);
            br += brotli_len(f)?;
        }
        println!(
            "{:<48} {raw:>9} {gz:>9} {br:>9}",
            "total of the plain stable build (no build-std)"
        );
        plain_total = Some(gz);
    }
    // Only for `dist` and `size`: `test` and `demo` skip the download.
    let peer = if check == Check::Full {
        peer_file()
    } else {
        Err("skipped; `cargo xtask size` measures it".into())
    };
    match peer {
        Ok(peer) => {
            let bytes = fs::read(&peer).map_err(|e| e.to_string())?;
            let gz = gzip_len(&bytes);
            println!(
                "{:<48} {:>9} {gz:>9} {:>9}",
                format!("peer: {PEER} dist/index.umd.js"),
                bytes.len(),
                brotli_len(&peer)?
            );
            println!("ours / peer (gzip): {:.2}", total as f64 / gz as f64);
        }
        Err(e) => println!("peer: not measured ({e})"),
    }
    let (budget, plain_budget) = if built.size_step {
        (BUDGET_GZIP, plain_total.map(|t| (t, PLAIN_BUDGET_GZIP)))
    } else {
        (PLAIN_BUDGET_GZIP, None)
    };
    println!(
        "budget: {total} of {budget} bytes gzip ({:.1} KB of {:.1} KB){}",
        total as f64 / 1024.0,
        budget as f64 / 1024.0,
        if built.size_step {
            ""
        } else {
            ", the plain build's"
        }
    );
    if let Some((plain, plain_budget)) = plain_budget {
        println!("budget of the plain build: {plain} of {plain_budget} bytes gzip");
    }
    if !built.fallback.is_empty() {
        let (mut raw, mut gz) = (0, 0);
        for f in &built.fallback {
            let bytes = fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
            raw += bytes.len() as u64;
            gz += gzip_len(&bytes);
        }
        println!(
            "{:<48} {raw:>9} {gz:>9}",
            "fallback/ (only where WebAssembly is blocked)"
        );
    }
    let mut over = Vec::new();
    if total > budget {
        over.push(format!(
            "over the size budget by {} bytes gzip",
            total - budget
        ));
    }
    if let Some((plain, plain_budget)) = plain_budget.filter(|(t, b)| t > b) {
        over.push(format!(
            "the plain build is over its budget by {} bytes gzip",
            plain - plain_budget
        ));
    }
    if !over.is_empty() {
        let over = over.join("; ");
        if check != Check::Warn {
            return Err(over);
        }
        println!("WARNING: {over}");
    }
    Ok(())
}

/// The loader and the hashed module and wasm it loads, in `dir`.
fn what_a_page_downloads(dir: &Path) -> Vec<PathBuf> {
    let mut files = vec![dir.join("nps-widget.js")];
    for file in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = file.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with("nps_widget.") || name.starts_with("nps_widget_bg.");
        if ours && crate::hashed::is_hashed(&name) {
            files.push(file.path());
        }
    }
    files.sort();
    files.retain(|f| f.exists());
    files
}

pub(crate) fn size() -> Result {
    let dir = root().join("dist");
    if !dir.join("nps_widget_bg.wasm").exists() {
        return dist(Check::Full).map(|_| ());
    }
    let dist = dir;
    let downloads = what_a_page_downloads(&dist);
    let fallback = vec![dist.join("fallback/nps_widget.js")];
    let plain_dir = plain_dist();
    let plain = what_a_page_downloads(&plain_dir);
    // dist/ holds the plain build when the size step failed (then the two are the same).
    let same = |name: &str| fs::read(dist.join(name)).ok() == fs::read(plain_dir.join(name)).ok();
    let size_step = !same("nps_widget_bg.wasm");
    report(
        &Built {
            downloads,
            fallback,
            plain: if size_step { plain } else { Vec::new() },
            size_step,
        },
        Check::Full,
    )
}
