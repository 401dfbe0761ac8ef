//! `cargo xtask demo`: the widget built, the collector serving the demo page with a fresh
//! token.

use super::*;
use crate::test::build_collector;

pub(crate) fn demo(extra: &[String]) -> Result {
    dist(Check::Warn)?;
    let collector = build_collector()?;
    let root = root();
    let token = read_token()?;
    println!(
        "demo: open http://127.0.0.1:8080/#token={token}\n      dashboard (signed in as admin): http://127.0.0.1:8080/dashboard#token={token}\n      Ctrl-C stops it; answers are stored in nps.db"
    );
    let mut cmd = Command::new(collector);
    cmd.args(["--token", &token])
        .arg("--static")
        .arg(root.join("www"))
        .arg("--static")
        .arg(root.join("dist"))
        .args(extra);
    run(&mut cmd)
}

/// A fresh admin token for the demo's dashboard: 16 random bytes as hex (32 characters, over
/// the collector's 16-character minimum).
pub(crate) fn read_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .map_err(|e| format!("reading /dev/urandom for the demo token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
