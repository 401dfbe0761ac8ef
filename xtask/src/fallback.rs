//! The JavaScript fallback, for pages where WebAssembly cannot run (a CSP without
//! `'wasm-unsafe-eval'`, or a browser with WebAssembly turned off): the same crate, built for
//! the features binaryen's `wasm2js` handles, turned into JS by `wasm2js`, and driven by
//! wasm-bindgen's own glue for bundlers (which imports the module as `./nps_widget_bg.wasm`),
//! all bundled by Rollup into one module. The loader fetches it only when the wasm path fails.
//!
//! Why a second build: Rust enables reference types by default, which makes wasm-bindgen use an
//! externref table next to the function table, and `wasm2js` does not handle two tables. Built
//! for the MVP feature set and without the target-features section, wasm-bindgen keeps JS values
//! in a JS-side heap instead, with one table. The normal build keeps its faster calling
//! convention.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::dist::{bundle, terser, wasm_build};
use crate::{run, Result};

/// Builds `dist/fallback/`; returns its files.
pub(crate) fn build(root: &Path, target_dir: &Path, dist: &Path) -> Result<Vec<PathBuf>> {
    let fallback_target = target_dir.join("fallback");
    run(wasm_build()
        .env("CARGO_TARGET_DIR", &fallback_target)
        .env("RUSTFLAGS", "-C target-cpu=mvp -C strip=symbols"))?;
    let wasm = fallback_target.join("wasm32-unknown-unknown/wasm-release/nps_widget.wasm");
    let bindgen = target_dir.join("bindgen-fallback");
    let _ = fs::remove_dir_all(&bindgen);
    eprintln!("$ wasm-bindgen --target bundler {}", wasm.display());
    wasm_bindgen_cli::wasm_bindgen::run_cli_with_args([
        "wasm-bindgen".into(),
        "--target".into(),
        "bundler".into(),
        "--remove-name-section".into(),
        "--remove-producers-section".into(),
        "--out-dir".into(),
        bindgen.clone().into_os_string(),
        wasm.into_os_string(),
    ])
    .map_err(|e| format!("wasm-bindgen (fallback): {e}"))?;

    // The precompiled std still uses bulk memory and non-trapping conversions: lower them to
    // MVP code, optimize for size, then translate to JS.
    let wasm_opt = root.join("node_modules/.bin/wasm-opt");
    let lowered = bindgen.join("lowered.wasm");
    run(Command::new(&wasm_opt)
        .arg(bindgen.join("nps_widget_bg.wasm"))
        .args([
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--llvm-memory-copy-fill-lowering",
            "--llvm-nontrapping-fptoint-lowering",
            "--signext-lowering",
            "-o",
        ])
        .arg(&lowered))?;
    let optimized = bindgen.join("optimized.wasm");
    run(Command::new(&wasm_opt)
        .arg(&lowered)
        .args(["--mvp-features", "--enable-mutable-globals", "-Oz", "-o"])
        .arg(&optimized))?;
    // The entry imports the module as `./nps_widget_bg.wasm`; Rollup loads whatever file an
    // import names as a module, so the JS translation takes the binary's place under its name.
    let entry = fs::read_to_string(bindgen.join("nps_widget.js")).map_err(|e| e.to_string())?;
    if !entry.contains("\"./nps_widget_bg.wasm\"") {
        return Err("the bindgen entry no longer imports \"./nps_widget_bg.wasm\"".into());
    }
    run(Command::new(root.join("node_modules/.bin/wasm2js"))
        .arg(&optimized)
        .args(["--enable-mutable-globals", "-Oz", "-o"])
        .arg(bindgen.join("nps_widget_bg.wasm")))?;

    // wasm-bindgen notices memory growth by the old buffer being detached; wasm2js grows by
    // swapping in a new buffer and leaves the old one attached. Compare buffers instead. (The
    // one edit left on bindgen's output beside the rename map: wasm2js and bindgen disagree,
    // and each check must find its text, or the build fails.)
    let glue_path = bindgen.join("nps_widget_bg.js");
    let glue = fs::read_to_string(&glue_path).map_err(|e| e.to_string())?;
    let data_view = "cachedDataViewMemory0.buffer.detached === true || \
        (cachedDataViewMemory0.buffer.detached === undefined && \
        cachedDataViewMemory0.buffer !== wasm.memory.buffer)";
    let bytes = "cachedUint8ArrayMemory0.byteLength === 0";
    if !glue.contains(data_view) || !glue.contains(bytes) {
        return Err("the bindgen glue checks memory growth differently now: \
                    update xtask/src/fallback.rs"
            .into());
    }
    let glue = glue
        .replace(
            data_view,
            "cachedDataViewMemory0.buffer !== wasm.memory.buffer",
        )
        .replace(
            bytes,
            "cachedUint8ArrayMemory0.buffer !== wasm.memory.buffer",
        );
    fs::write(&glue_path, glue).map_err(|e| e.to_string())?;

    // One module, next to `fallback/locales/` (the snippet's locale URLs are relative to it),
    // fetching them by their hashed names.
    let out = dist.join("fallback");
    fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let module = out.join("nps_widget.js");
    let locales = crate::hashed::locales_define(dist)?;
    terser(
        &bundle(&bindgen, "fallback.js")?,
        &module,
        true,
        Some(&locales),
    )?;
    Ok(vec![module])
}
