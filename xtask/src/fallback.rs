//! The JavaScript fallback, for pages where WebAssembly cannot run (a CSP without
//! `'wasm-unsafe-eval'`, or a browser with WebAssembly turned off): the same crate, built for
//! the features binaryen's `wasm2js` handles, turned into JS by `wasm2js`, and driven by
//! wasm-bindgen's own glue for bundlers (which imports the module as `./nps_widget_bg.wasm`;
//! we point that import at the JS version). The loader fetches it only when the wasm path fails.
//!
//! Why a second build: Rust enables reference types by default, which makes wasm-bindgen use an
//! externref table next to the function table, and `wasm2js` does not handle two tables. Built
//! for the MVP feature set and without the target-features section, wasm-bindgen keeps JS values
//! in a JS-side heap instead, with one table. The normal build keeps its faster calling
//! convention.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{run, terser, walk, wasm_build, Result};

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
    let as_js = bindgen.join("nps_widget_bg.wasm.js");
    run(Command::new(root.join("node_modules/.bin/wasm2js"))
        .arg(&optimized)
        .args(["--enable-mutable-globals", "-Oz", "-o"])
        .arg(&as_js))?;

    let out = dist.join("fallback");
    fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let entry = fs::read_to_string(bindgen.join("nps_widget.js")).map_err(|e| e.to_string())?;
    if !entry.contains("\"./nps_widget_bg.wasm\"") {
        return Err("the bindgen entry no longer imports \"./nps_widget_bg.wasm\"".into());
    }
    // The entry re-exports the raw exports; the module's API is the class `add_api` appends.
    // (bindgen lists them sorted, the list `bundle::add_api` makes private).
    let mut names = crate::bundle::API_EXPORTS;
    names.sort_unstable();
    let raw_exports = format!(
        "export {{\n    {}\n}} from \"./nps_widget_bg.js\";",
        names.join(", ")
    );
    if !entry.contains(&raw_exports) {
        return Err(
            "the bindgen entry exports something else now: update xtask/src/fallback.rs".into(),
        );
    }
    let entry_js = bindgen.join("entry.js");
    fs::write(
        &entry_js,
        entry
            .replace("\"./nps_widget_bg.wasm\"", "\"./nps_widget_bg.wasm.js\"")
            .replace(
                &raw_exports,
                "export { NpsWidget } from \"./nps_widget_bg.js\";",
            ),
    )
    .map_err(|e| e.to_string())?;
    // wasm-bindgen notices memory growth by the old buffer being detached; wasm2js grows by
    // swapping in a new buffer and leaves the old one attached. Compare buffers instead.
    let glue = fs::read_to_string(bindgen.join("nps_widget_bg.js")).map_err(|e| e.to_string())?;
    let data_view = "cachedDataViewMemory0.buffer.detached === true || \
        (cachedDataViewMemory0.buffer.detached === undefined && \
        cachedDataViewMemory0.buffer !== wasm.memory.buffer)";
    let bytes = "cachedUint8ArrayMemory0.byteLength === 0";
    if !glue.contains(data_view) || !glue.contains(bytes) {
        return Err("the bindgen glue checks memory growth differently now: \
                    update xtask/src/fallback.rs"
            .into());
    }
    let glue_js = bindgen.join("glue.js");
    let glue = glue
        .replace(
            data_view,
            "cachedDataViewMemory0.buffer !== wasm.memory.buffer",
        )
        .replace(
            bytes,
            "cachedUint8ArrayMemory0.buffer !== wasm.memory.buffer",
        );
    let api = fs::read_to_string(root.join("js/api.js")).map_err(|e| e.to_string())?;
    fs::write(&glue_js, crate::bundle::add_api(&glue, &api)?).map_err(|e| e.to_string())?;
    let mut files = Vec::new();
    for (from, to) in [
        (entry_js, out.join("nps_widget.js")),
        (glue_js, out.join("nps_widget_bg.js")),
        (as_js, out.join("nps_widget_bg.wasm.js")),
    ] {
        terser(&from, &to, true)?;
        files.push(to);
    }
    for snippet in walk(&bindgen.join("snippets")) {
        let relative = snippet.strip_prefix(&bindgen).map_err(|e| e.to_string())?;
        let to = out.join(relative);
        fs::create_dir_all(to.parent().expect("a file has a parent")).map_err(|e| e.to_string())?;
        // The snippets stay files here, under `fallback/snippets/…`: the locale URLs (written
        // for the bundled module next to `locales/`) climb back up to `fallback/locales/`.
        let source = fs::read_to_string(&snippet).map_err(|e| e.to_string())?;
        let up = "../".repeat(relative.components().count() - 1);
        let patched = source.replace("new URL('./locales/", &format!("new URL('{up}locales/"));
        if source.contains("import.meta.url") && patched == source {
            return Err(format!(
                "fallback: {} fetches next to itself, but not locales/",
                snippet.display()
            ));
        }
        fs::write(&snippet, patched).map_err(|e| e.to_string())?;
        terser(&snippet, &to, true)?;
        files.push(to);
    }
    Ok(files)
}
