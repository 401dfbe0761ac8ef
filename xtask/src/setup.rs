//! `cargo xtask setup`: installs what the build and the tests need, where it can (the wasm32
//! target, rust-src, the npm packages, Chromium, PostgreSQL), and says what to install where it
//! cannot.

use super::*;

/// The size step compiles std from source (see `size_step_build`).
pub(crate) fn ensure_rust_src() -> Result {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("rustc: {e}"))?;
    let src = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim())
        .join("lib/rustlib/src/rust/library/core");
    if !src.exists() {
        run(Command::new("rustup").args(["component", "add", "rust-src"]))?;
    }
    Ok(())
}

/// Installs what the build and tests need, where it can; says what to install where it cannot.
pub(crate) fn setup() -> Result {
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup is needed to add the wasm32 target: {e}"))?;
    if !String::from_utf8_lossy(&targets.stdout).contains("wasm32-unknown-unknown") {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    if let Err(e) = ensure_rust_src() {
        println!("WARNING: no rust-src ({e}): `cargo xtask dist` will ship the plain build");
    }
    if !have("npm") {
        return Err(
            "Node.js and npm are needed: install them (e.g. apt-get install nodejs npm)".into(),
        );
    }
    let stamp = root().join("node_modules/.package-lock.json");
    let lock = root().join("package-lock.json");
    let stale = match (fs::metadata(&stamp), fs::metadata(&lock)) {
        (Ok(s), Ok(l)) => s.modified().ok() < l.modified().ok(),
        _ => true,
    };
    if stale {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]))?;
    }
    if !(have("chromium") && have("chromedriver")) {
        if is_root() && have("apt-get") {
            run(Command::new("apt-get").args(["update", "-qq"]))?;
            run(Command::new("apt-get")
                .args(["install", "-y", "-qq", "chromium", "chromium-driver"])
                .env("DEBIAN_FRONTEND", "noninteractive"))?;
        } else {
            return Err(
                "Chromium and ChromeDriver are needed for the browser tests: \
                        install them, e.g. `sudo apt-get install chromium chromium-driver`"
                    .into(),
            );
        }
    }
    // The API contract's tools (schemathesis, openapi-spec-validator) run in a virtualenv.
    let venv = Command::new("python3")
        .args(["-c", "import ensurepip, venv"])
        .status()
        .is_ok_and(|s| s.success());
    if !venv && is_root() && have("apt-get") {
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-qq", "python3", "python3-venv"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    let have_postgres = fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().any(|e| e.path().join("bin/initdb").exists()))
        .unwrap_or(false);
    if !have_postgres && env::var_os("NPS_TEST_PG_URL").is_none() {
        if is_root() && have("apt-get") {
            run(Command::new("apt-get").args(["update", "-qq"]))?;
            run(Command::new("apt-get")
                .args(["install", "-y", "-qq", "postgresql"])
                .env("DEBIAN_FRONTEND", "noninteractive"))?;
        } else {
            return Err(
                "PostgreSQL is needed for the collector tests: install it (e.g. `sudo apt-get \
                 install postgresql`), or point NPS_TEST_PG_URL at a server"
                    .into(),
            );
        }
    }
    Ok(())
}
