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
mod fallback;
mod minify;

/// The size budget for everything a page with WebAssembly downloads for the widget: the
/// measured total of the widget on its own stack (web-sys, gloo, serde-wasm-bindgen out;
/// 47,285 B; see docs/PERFORMANCE.md), rounded up to the next 256 B, so that any growth fails.
/// The 40 KB set for this stack did not hold: the cost table says where the bytes go.
const BUDGET_GZIP: u64 = 47_360;

/// The budget of the plain stable build (no build-std), which `dist` ships where the size step
/// fails: its measured total (55,482 B), rounded up the same way.
const PLAIN_BUDGET_GZIP: u64 = 55_552;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dist") => dist(Check::Full).map(|_| ()),
        Some("size") => size(),
        Some("demo") => demo(&args[1..]),
        Some("test") => test(),
        Some("bench-collector") => bench::bench_collector(&args[1..]),
        Some("bench-reports") => bench::bench_reports(&args[1..]),
        Some("bench-web") => dist(Check::Warn).and_then(|_| {
            run(Command::new("node")
                .arg("tests/bench/web.mjs")
                .args(&args[1..]))
        }),
        Some("e2e") => dist(Check::Warn).and_then(|_| e2e()),
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
                "usage: cargo xtask <command>\n\n  demo   build the widget, start the collector with the demo page\n  \
                 test   every check: fmt, clippy (native + wasm32), unit, browser and end-to-end tests\n  \
                 dist   build dist/ (loader, glue, wasm, types, package.json) and check the size budget\n  \
                 size   print the size of every file a page downloads\n  \
                 e2e    build and run only the end-to-end tests\n  \
                 bench-web [RUNS]\n         the widget's main-thread cost and memory in headless Chromium (20)\n  \
                 bench-collector [N] [CONNECTIONS]\n         load figure of the collector on SQLite and PostgreSQL (100000, 64)\n  \
                 bench-reports [SQLITE_N] [POSTGRES_N]\n         report times and peak RSS over stored responses (1200000, 1000000)\n  \
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

/// The size step compiles std from source (see `size_step_build`).
fn ensure_rust_src() -> Result {
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
fn setup() -> Result {
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

struct Built {
    /// Files a page downloads, for the budget.
    downloads: Vec<PathBuf>,
    /// The JS fallback's files, downloaded only where WebAssembly cannot run.
    fallback: Vec<PathBuf>,
    /// The same files from the plain stable build, when dist/ ships the size step's.
    plain: Vec<PathBuf>,
    /// Whether `downloads` are the size step's build (else the plain one).
    size_step: bool,
}

/// The shipped wasm's plain cargo build, in the size profile, on the stable toolchain.
pub(crate) fn wasm_build() -> Command {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--lib",
        "--package",
        "nps-widget",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]);
    cmd
}

/// The plain build: precompiled std, stable toolchain, no flags. Its own target dir, so that
/// it shares nothing with the size step's.
fn plain_build(target_dir: &Path) -> Command {
    let mut cmd = wasm_build();
    cmd.env_remove("RUSTFLAGS")
        .env("CARGO_TARGET_DIR", target_dir);
    cmd
}

/// The size step: std compiled from source (`-Z build-std`, allowed on a stable toolchain by
/// `RUSTC_BOOTSTRAP=1`, for this one build only) with the size profile, its size-over-speed
/// variants, and the `immediate-abort` panic strategy, so every panic path is a bare trap with
/// no message formatting (`core::fmt`) behind it. The precompiled std is built for speed and
/// keeps its panic machinery. Unstable flags: when a toolchain refuses them, `dist` warns and
/// ships the plain build (see `cargo xtask size` for both figures).
///
/// Without reference types, wasm-bindgen keeps the JS values the wasm holds in a JS array
/// instead of an `externref` table: the table's shims and allocator leave the wasm, and the
/// widget holds only a handful of values (568 B gzip less when measured). That needs every
/// crate built without them, std included, so it belongs to this step: the precompiled std
/// is built with them.
fn size_step_build(target_dir: &Path) -> Command {
    let mut cmd = wasm_build();
    cmd.args([
        "-Z",
        "build-std=std,panic_abort",
        "-Z",
        "build-std-features=optimize_for_size",
    ])
    .env("RUSTC_BOOTSTRAP", "1")
    .env(
        "RUSTFLAGS",
        "-C target-feature=-reference-types -Z unstable-options -C panic=immediate-abort",
    )
    .env("CARGO_TARGET_DIR", target_dir);
    cmd
}

/// What a build checks of its size.
#[derive(Clone, Copy, PartialEq)]
enum Check {
    /// Print the figures; over the budget, a warning (`demo`, `e2e`, `bench-web`).
    Warn,
    /// Fail over the budget (`test`: no peer download, the network may be closed).
    Budget,
    /// Fail over the budget, and measure the peer (`dist`, `size`).
    Full,
}

fn target_dir() -> PathBuf {
    env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"))
}

/// Where `dist` puts the plain build's package, for the plain-build test and the size table.
fn plain_dist() -> PathBuf {
    target_dir().join("dist-plain")
}

/// Builds dist/: the wasm (the size step's build, or the plain one where the size step fails),
/// bindgen, wasm-opt, minified JS, types, package.json, locales, the JS fallback; and the plain
/// build's package beside it. Prints the sizes and checks them as `check` says.
fn dist(check: Check) -> Result<Built> {
    let root = root();
    if !root.join("node_modules/.bin/wasm-opt").exists() {
        setup()?;
    }
    let target_dir = target_dir();
    let wasm_path = |dir: &Path| dir.join("wasm32-unknown-unknown/wasm-release/nps_widget.wasm");
    // NPS_PLAIN=1 ships the plain build without trying the size step.
    let size_step = if env::var_os("NPS_PLAIN").is_some() {
        Err("not tried: NPS_PLAIN is set".to_string())
    } else {
        ensure_rust_src()
            .and_then(|()| run(&mut size_step_build(&target_dir.join("shipped"))))
            .map(|()| wasm_path(&target_dir.join("shipped")))
    };
    run(&mut plain_build(&target_dir.join("plain")))?;
    let plain_wasm = wasm_path(&target_dir.join("plain"));
    let dist = root.join("dist");
    let (shipped_wasm, plain) = match size_step {
        Ok(wasm) => {
            let plain = package(
                &plain_wasm,
                &target_dir.join("bindgen-plain"),
                &plain_dist(),
            )?;
            (wasm, plain)
        }
        Err(e) => {
            println!(
                "WARNING: the size step's build (-Z build-std) failed ({e}); \
                 dist/ ships the plain stable build, within its own budget"
            );
            (plain_wasm, Vec::new())
        }
    };
    let downloads = package(&shipped_wasm, &target_dir.join("bindgen"), &dist)?;
    if plain.is_empty() {
        // The plain-build test reads target/dist-plain: here it is what dist/ holds.
        let _ = fs::remove_dir_all(plain_dist());
        copy_dir(&dist, &plain_dist())?;
    }
    let fallback = fallback::build(&root, &target_dir, &dist)?;
    let built = Built {
        downloads,
        fallback,
        size_step: !plain.is_empty(),
        plain,
    };
    report(&built, check)?;
    Ok(built)
}

fn copy_dir(from: &Path, to: &Path) -> Result {
    for file in walk(from) {
        let relative = file.strip_prefix(from).map_err(|e| e.to_string())?;
        let target = to.join(relative);
        fs::create_dir_all(target.parent().ok_or("a file has a parent")?)
            .map_err(|e| e.to_string())?;
        fs::copy(&file, &target).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(())
}

/// One package from one wasm build, in `out`: wasm-bindgen (in `work`), wasm-opt, the glue with
/// its snippets and the `NpsWidget` class as one module, the loader, types, package.json and
/// the locale files. Returns the files a page downloads.
fn package(wasm: &Path, work: &Path, out: &Path) -> Result<Vec<PathBuf>> {
    let root = root();
    let _ = fs::remove_dir_all(work);
    eprintln!("$ wasm-bindgen --target web {}", wasm.display());
    // NPS_KEEP_NAMES=1 keeps function names in dist/ for `twiggy top dist/nps_widget_bg.wasm`.
    let keep_names = env::var_os("NPS_KEEP_NAMES").is_some();
    let mut bindgen_args: Vec<std::ffi::OsString> =
        vec!["wasm-bindgen".into(), "--target".into(), "web".into()];
    if !keep_names {
        bindgen_args.push("--remove-name-section".into());
    }
    bindgen_args.extend([
        "--remove-producers-section".into(),
        "--out-dir".into(),
        work.to_path_buf().into_os_string(),
        wasm.to_path_buf().into_os_string(),
    ]);
    wasm_bindgen_cli::wasm_bindgen::run_cli_with_args(bindgen_args)
        .map_err(|e| format!("wasm-bindgen: {e}"))?;

    let _ = fs::remove_dir_all(out);
    fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let mut opt = Command::new(root.join("node_modules/.bin/wasm-opt"));
    opt.arg(work.join("nps_widget_bg.wasm")).args([
        "-Oz",
        "--minify-imports-and-exports-and-modules",
        "--strip-producers",
        "--strip-target-features",
    ]);
    if !keep_names {
        opt.arg("--strip-debug");
    } else {
        opt.arg("-g");
    }
    let shipped_wasm = out.join("nps_widget_bg.wasm");
    opt.arg("-o").arg(&shipped_wasm);
    eprintln!("$ {opt:?}");
    let printed = opt.output().map_err(|e| format!("wasm-opt: {e}"))?;
    if !printed.status.success() {
        return Err(format!(
            "wasm-opt failed: {}",
            String::from_utf8_lossy(&printed.stderr)
        ));
    }
    let renames = minify::parse(&String::from_utf8_lossy(&printed.stdout))?;
    let modules = Command::new("node")
        .args([
            "-e",
            "const fs = require('fs'); const m = new WebAssembly.Module(fs.readFileSync(process.argv[1])); \
             console.log([...new Set(WebAssembly.Module.imports(m).map((i) => i.module))].join(' '))",
        ])
        .arg(&shipped_wasm)
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let modules = String::from_utf8_lossy(&modules.stdout).trim().to_owned();
    if modules.is_empty() || modules.contains(' ') {
        return Err(format!(
            "minify: expected one import module, found {modules:?}"
        ));
    }
    let mut downloads = vec![out.join("nps-widget.js"), out.join("nps_widget.js")];
    terser(
        &root.join("js/loader.js"),
        &out.join("nps-widget.js"),
        false,
    )?;
    // The glue with the short names, then one module of it, its snippet and the class: one
    // gzip stream and a request fewer, and only what `js/index.js` exports is public.
    let glue_path = work.join("nps_widget.js");
    let glue = fs::read_to_string(&glue_path).map_err(|e| e.to_string())?;
    fs::write(&glue_path, minify::patch_glue(&glue, &renames, &modules)?)
        .map_err(|e| e.to_string())?;
    let bundled = bundle(work, "index.js")?;
    terser(&bundled, &out.join("nps_widget.js"), true)?;
    downloads.push(shipped_wasm);

    let mut types = minify::patch_types(
        &fs::read_to_string(work.join("nps_widget.d.ts")).map_err(|e| e.to_string())?,
    )?;
    types.push_str(&fs::read_to_string(root.join("js/types.d.ts")).map_err(|e| e.to_string())?);
    fs::write(out.join("nps_widget.d.ts"), types).map_err(|e| e.to_string())?;
    fs::write(out.join("package.json"), package_json()).map_err(|e| e.to_string())?;
    fs::copy(root.join("README.md"), out.join("README.md")).map_err(|e| e.to_string())?;
    // Only English is in the wasm; the other built-in locales are fetched when a page needs one.
    for dir in [out.join("locales"), out.join("fallback/locales")] {
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        for tag in nps_widget::i18n::LOCALES {
            if !nps_widget::i18n::ships_as_file(tag) {
                continue;
            }
            let table = nps_widget::i18n::table(tag).ok_or("a built-in locale without a table")?;
            let json = serde_json::to_string(&table[..]).map_err(|e| e.to_string())?;
            fs::write(dir.join(format!("{tag}.json")), json).map_err(|e| e.to_string())?;
        }
    }
    Ok(downloads)
}

/// Bundles `js/<entry>` with what it imports from `work` (wasm-bindgen's output there: the
/// glue, its snippets) into one ES module, by Rollup; returns the bundle's path.
pub(crate) fn bundle(work: &Path, entry: &str) -> Result<PathBuf> {
    for file in ["api.js", entry] {
        fs::copy(root().join("js").join(file), work.join(file))
            .map_err(|e| format!("js/{file}: {e}"))?;
    }
    let bundled = work.join("bundled.js");
    run(Command::new("node")
        .arg(root().join("node_modules/rollup/dist/bin/rollup"))
        .arg(work.join(entry))
        .args(["--format", "es", "--silent", "--file"])
        .arg(&bundled))?;
    Ok(bundled)
}

pub(crate) fn terser(input: &Path, output: &Path, module: bool) -> Result {
    let mut cmd = Command::new("node");
    cmd.arg(root().join("node_modules/terser/bin/terser"))
        .arg(input)
        .args(["--compress", "passes=2", "--mangle", "--ecma", "2020"]);
    if module {
        cmd.arg("--module");
    }
    cmd.arg("--output").arg(output);
    run(&mut cmd)
}

pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn package_json() -> String {
    let version = env!("CARGO_PKG_VERSION");
    format!(
        r#"{{
  "name": "nps-widget",
  "type": "module",
  "version": "{version}",
  "description": "A tiny, accessible Net Promoter Score widget in WebAssembly",
  "license": "MIT",
  "files": ["nps_widget_bg.wasm", "nps_widget.js", "nps_widget.d.ts", "nps-widget.js", "locales/", "fallback/"],
  "main": "nps_widget.js",
  "module": "nps_widget.js",
  "types": "nps_widget.d.ts",
  "sideEffects": ["./nps-widget.js"]
}}
"#
    )
}

fn gzip_len(bytes: &[u8]) -> u64 {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail").len() as u64
}

/// Prints raw and gzip sizes of every downloaded file and fails over the budget.
/// Brotli (quality 11) size of a file, through Node's zlib (no Rust brotli crate needed).
fn brotli_len(path: &Path) -> Result<u64> {
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
const PEER: &str = "@formbricks/surveys@1.99.0";

fn peer_file() -> Result<PathBuf> {
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

fn report(built: &Built, check: Check) -> Result {
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

fn size() -> Result {
    let dir = root().join("dist");
    if !dir.join("nps_widget_bg.wasm").exists() {
        return dist(Check::Full).map(|_| ());
    }
    let dist = dir;
    let downloads = vec![
        dist.join("nps-widget.js"),
        dist.join("nps_widget.js"),
        dist.join("nps_widget_bg.wasm"),
    ];
    let fallback = walk(&dist.join("fallback"))
        .into_iter()
        .filter(|f| !f.starts_with(dist.join("fallback/locales")))
        .collect();
    let plain_dir = plain_dist();
    let plain = ["nps-widget.js", "nps_widget.js", "nps_widget_bg.wasm"]
        .iter()
        .map(|f| plain_dir.join(f))
        .filter(|f| f.exists())
        .collect();
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

fn build_collector() -> Result<PathBuf> {
    run(cargo().args(["build", "--release", "--package", "nps-collector"]))?;
    let target_dir = env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"));
    Ok(target_dir.join("release/nps-collector"))
}

fn demo(extra: &[String]) -> Result {
    dist(Check::Warn)?;
    let collector = build_collector()?;
    let root = root();
    let token = read_token()?;
    println!(
        "demo: open http://127.0.0.1:8080/#token={token}\n      dashboard: http://127.0.0.1:8080/dashboard (read token: {token})\n      Ctrl-C stops it; answers are stored in nps.db"
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

/// A fresh read token for the demo's dashboard: 16 random bytes as hex.
fn read_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .map_err(|e| format!("reading /dev/urandom for the demo token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn e2e() -> Result {
    let collector = build_collector()?;
    run(Command::new("node")
        .args([
            "--test",
            "--test-concurrency=1",
            "tests/node/",
            "tests/e2e/",
        ])
        .env("NPS_COLLECTOR", collector))
}

/// Every check, in the order that fails fastest.
fn test() -> Result {
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
    // The plain stable build (no build-std) answers and delivers the same.
    let collector = build_collector()?;
    run(Command::new("node")
        .args(["--test", "tests/e2e/slice.test.mjs"])
        .env("NPS_COLLECTOR", collector)
        .env("NPS_DIST", plain_dist()))?;
    println!("xtask test: all checks passed");
    Ok(())
}
