//! `cargo xtask dist`: the wasm builds (the size step and the plain stable one), wasm-bindgen,
//! wasm-opt, the bundled and minified JS, the types, package.json, the locale files and the
//! JS fallback, in `dist/`.

use super::*;
use crate::setup::ensure_rust_src;
use crate::size::report;

pub(crate) struct Built {
    /// Files a page downloads, for the budget.
    pub(crate) downloads: Vec<PathBuf>,
    /// The JS fallback's files, downloaded only where WebAssembly cannot run.
    pub(crate) fallback: Vec<PathBuf>,
    /// The same files from the plain stable build, when dist/ ships the size step's.
    pub(crate) plain: Vec<PathBuf>,
    /// Whether `downloads` are the size step's build (else the plain one).
    pub(crate) size_step: bool,
}

/// Where `dist` writes the card's stylesheet minified, which its wasm builds include.
fn card_css() -> PathBuf {
    target_dir().join("card.min.css")
}

/// `src/dom/card.css` minified by Lightning CSS, to [`card_css`].
fn minify_css() -> Result {
    run(Command::new("node")
        .args([
            "-e",
            "const fs = require('fs'); const { transform } = require('lightningcss'); \
             const [from, to] = process.argv.slice(1); \
             fs.writeFileSync(to, transform({ filename: 'card.css', code: fs.readFileSync(from), minify: true }).code);",
        ])
        .arg(root().join("src/dom/card.css"))
        .arg(card_css())
        .current_dir(root()))
}

/// The shipped wasm's plain cargo build, in the size profile, on the stable toolchain, with
/// the minified stylesheet.
pub(crate) fn wasm_build() -> Command {
    let mut cmd = cargo();
    cmd.env("NPS_CARD_CSS", card_css());
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

/// `--remap-path-prefix` for the places sources are built from on this machine: the
/// toolchain's std sources and each crate registry's, written as `rust/…` and `crates/…`.
/// The wasm keeps a few source paths (the `#[track_caller]` locations behind wasm-bindgen's
/// `unwrap_throw` and its closures' guards); without the remap they would name this
/// machine's home directory in the shipped file, and cost their length in every download.
/// A stable flag that changes no code, only the text of those paths.
fn remap_flags() -> Vec<String> {
    let mut flags = Vec::new();
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if let Some(sysroot) = sysroot {
        flags.push(format!(
            "--remap-path-prefix={sysroot}/lib/rustlib/src/rust=rust"
        ));
    }
    let cargo_home = env::var("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|_| env::var("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Ok(home) = cargo_home {
        if let Ok(registries) = std::fs::read_dir(home.join("registry").join("src")) {
            for registry in registries.flatten() {
                flags.push(format!(
                    "--remap-path-prefix={}=crates",
                    registry.path().display()
                ));
            }
        }
        flags.push(format!(
            "--remap-path-prefix={}=git",
            home.join("git").join("checkouts").display()
        ));
    }
    flags
}

/// `flags` as cargo's `CARGO_ENCODED_RUSTFLAGS` (which wins over `RUSTFLAGS`), so that a
/// path with a space stays one flag.
fn encoded(flags: &[String]) -> String {
    flags.join("\u{1f}")
}

/// The plain build: precompiled std, stable toolchain, no flags but the path remap (which
/// changes no code). Its own target dir, so that it shares nothing with the size step's.
pub(crate) fn plain_build(target_dir: &Path) -> Command {
    let mut cmd = wasm_build();
    cmd.env_remove("RUSTFLAGS")
        .env("CARGO_ENCODED_RUSTFLAGS", encoded(&remap_flags()))
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
pub(crate) fn size_step_build(target_dir: &Path) -> Command {
    let mut cmd = wasm_build();
    cmd.args([
        "-Z",
        "build-std=std,panic_abort",
        "-Z",
        "build-std-features=optimize_for_size",
    ])
    .env("RUSTC_BOOTSTRAP", "1");
    let mut flags: Vec<String> = [
        "-C",
        "target-feature=-reference-types",
        "-Z",
        "unstable-options",
        "-C",
        "panic=immediate-abort",
    ]
    .map(String::from)
    .to_vec();
    flags.extend(remap_flags());
    cmd.env_remove("RUSTFLAGS")
        .env("CARGO_ENCODED_RUSTFLAGS", encoded(&flags))
        .env("CARGO_TARGET_DIR", target_dir);
    cmd
}

/// What a build checks of its size.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Check {
    /// Print the figures; over the budget, a warning (`demo`, `e2e`, `bench-web`).
    Warn,
    /// Fail over the budget (`test`: no peer download, the network may be closed).
    Budget,
    /// Fail over the budget, and measure the peer (`dist`, `size`).
    Full,
}

/// Where `dist` puts the plain build's package, for the plain-build test and the size table.
pub(crate) fn plain_dist() -> PathBuf {
    target_dir().join("dist-plain")
}

/// Builds dist/: the wasm (the size step's build, or the plain one where the size step fails),
/// bindgen, wasm-opt, minified JS, types, package.json, locales, the JS fallback; and the plain
/// build's package beside it. Prints the sizes and checks them as `check` says.
pub(crate) fn dist(check: Check) -> Result<Built> {
    let root = root();
    if !root.join("node_modules/.bin/wasm-opt").exists() {
        setup()?;
    }
    let target_dir = target_dir();
    minify_css()?;
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
    package(&shipped_wasm, &target_dir.join("bindgen"), &dist)?;
    if plain.is_empty() {
        // The plain-build test reads target/dist-plain: here it is what dist/ holds.
        let _ = fs::remove_dir_all(plain_dist());
        copy_dir(&dist, &plain_dist())?;
    }
    let fallback = fallback::build(&root, &target_dir, &dist)?;
    let hashed = |dir: &Path, work: &str| -> Result<Vec<PathBuf>> {
        let h = crate::hashed::name_by_content(dir, &target_dir.join(work).join("tag.min.js"))?;
        Ok(vec![
            dir.join("nps-widget.js"),
            dir.join(h.glue),
            dir.join(h.wasm),
        ])
    };
    let downloads = hashed(&dist, "bindgen")?;
    let plain = if plain.is_empty() {
        plain
    } else {
        hashed(&plain_dist(), "bindgen-plain")?
    };
    let built = Built {
        downloads,
        fallback,
        size_step: !plain.is_empty(),
        plain,
    };
    report(&built, check)?;
    Ok(built)
}

pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result {
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
pub(crate) fn package(wasm: &Path, work: &Path, out: &Path) -> Result<Vec<PathBuf>> {
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
        // Rust's wasm32 layout puts the stack first, growing down from 1 MiB toward 0, and the
        // data after it: the lowest kilobyte is reached only by a stack a kilobyte short of
        // overflowing. Told so, wasm-opt folds constant offsets into loads and stores.
        "--low-memory-unused",
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
    let mut downloads = vec![out.join("nps-widget.js"), out.join("nps_widget.js")];
    crate::hashed::loader(out, None)?;
    // The glue with the short names, then one module of it, its snippet and the class: one
    // gzip stream and a request fewer, and only what `js/index.js` exports is public.
    let glue_path = work.join("nps_widget.js");
    let glue = fs::read_to_string(&glue_path).map_err(|e| e.to_string())?;
    fs::write(&glue_path, minify::patch_glue(&glue, &renames, &modules)?)
        .map_err(|e| e.to_string())?;
    let bundled = bundle(work, "index.js")?;
    terser(&bundled, &out.join("nps_widget.js"), true, None)?;
    // The script tag's module: the same without `quiet()` (the loader has checked already),
    // fetching the locale files by their hashed names.
    let tag = bundle(work, "tag.js")?;
    let locales = crate::hashed::locales_define(out)?;
    terser(&tag, &work.join("tag.min.js"), true, Some(&locales))?;
    downloads.push(shipped_wasm);

    let mut types = minify::patch_types(
        &fs::read_to_string(work.join("nps_widget.d.ts")).map_err(|e| e.to_string())?,
    )?;
    types.push_str(&fs::read_to_string(root.join("js/types.d.ts")).map_err(|e| e.to_string())?);
    fs::write(out.join("nps_widget.d.ts"), types).map_err(|e| e.to_string())?;
    fs::write(out.join("package.json"), package_json()).map_err(|e| e.to_string())?;
    fs::copy(root.join("README.md"), out.join("README.md")).map_err(|e| e.to_string())?;
    Ok(downloads)
}

/// Bundles `js/<entry>` with what it imports from `work` (wasm-bindgen's output there: the
/// glue, its snippets) into one ES module, by Rollup; returns the bundle's path.
pub(crate) fn bundle(work: &Path, entry: &str) -> Result<PathBuf> {
    for file in ["api.js", "gate.js", "index.js", entry] {
        fs::copy(root().join("js").join(file), work.join(file))
            .map_err(|e| format!("js/{file}: {e}"))?;
    }
    let bundled = work.join(format!("bundled-{entry}"));
    run(Command::new("node")
        .arg(root().join("node_modules/rollup/dist/bin/rollup"))
        .arg(work.join(entry))
        .args(["--format", "es", "--silent", "--file"])
        .arg(&bundled))?;
    Ok(bundled)
}

/// Minifies `input` (an ES module with `module`); `define` is a `NAME=value` global
/// definition the code reads (the loader's hashed file names).
pub(crate) fn terser(input: &Path, output: &Path, module: bool, define: Option<&str>) -> Result {
    let mut cmd = Command::new("node");
    cmd.arg(root().join("node_modules/terser/bin/terser"))
        .arg(input)
        .args(["--compress", "passes=2", "--mangle", "--ecma", "2020"]);
    if module {
        cmd.arg("--module");
    }
    if let Some(define) = define {
        cmd.arg("--define").arg(define);
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

pub(crate) fn package_json() -> String {
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
