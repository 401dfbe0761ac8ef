//! The script tag's files under names a CDN may cache forever: the glue, the wasm, the JS
//! fallback and the locale files, each copied beside its plain name (which the npm package
//! keeps: bundlers hash what they emit) as `<stem>.<hash>.<ext>`, the hash the first 8 hex
//! digits of the content's SHA-256. The loader (`dist/nps-widget.js`, the one name sites
//! reference) is then built with their names (`FILES`).

use sha2::{Digest, Sha256};

use super::*;
use crate::dist::{terser, walk};

/// `name.js` → `name.1a2b3c4d.js`, for these bytes.
fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{name}.{hash}"),
    }
}

/// Writes `bytes` as `dist/<dir>/<name>` with `name` hashed by `hash_of`; returns the path,
/// relative to `dist`.
fn write_hashed(
    dist: &Path,
    dir: &str,
    name: &str,
    bytes: &[u8],
    hash_of: &[u8],
) -> Result<String> {
    let relative = match dir {
        "" => hashed_name(name, hash_of),
        _ => format!("{dir}/{}", hashed_name(name, hash_of)),
    };
    fs::write(dist.join(&relative), bytes).map_err(|e| e.to_string())?;
    Ok(relative)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Whether a file name carries a content hash (`nps_widget_bg.1a2b3c4d.wasm`).
pub(crate) fn is_hashed(name: &str) -> bool {
    let mut parts = name.rsplit('.');
    parts.next();
    parts
        .next()
        .is_some_and(|h| h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The hashed files of a package, relative to it: what its loader loads.
pub(crate) struct Hashed {
    pub(crate) glue: String,
    pub(crate) wasm: String,
}

/// Writes the hashed files in `dist` and rebuilds its loader to load them: the script tag's
/// module (`tag`, the package's module without `quiet()`), the wasm, the fallback (when `dist`
/// has one) and the locale files (one hash for the set, [`locale_hash`], which the module and
/// the fallback were built with).
pub(crate) fn name_by_content(dist: &Path, tag: &Path) -> Result<Hashed> {
    // An earlier build's hashed files go: only this build's names are referenced.
    for file in walk(dist) {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if is_hashed(name) {
            fs::remove_file(&file).map_err(|e| e.to_string())?;
        }
    }
    let glue = read(tag)?;
    let wasm = read(&dist.join("nps_widget_bg.wasm"))?;
    let mut files = serde_json::json!({
        "glue": write_hashed(dist, "", "nps_widget.js", &glue, &glue)?,
        "wasm": write_hashed(dist, "", "nps_widget_bg.wasm", &wasm, &wasm)?,
    });
    let fallback = dist.join("fallback/nps_widget.js");
    if fallback.exists() {
        let bytes = read(&fallback)?;
        files["fallback"] = write_hashed(dist, "fallback", "nps_widget.js", &bytes, &bytes)?.into();
    }
    let hash = locale_hash(dist)?;
    for dir in ["locales", "fallback/locales"] {
        for tag in shipped_locales() {
            let plain = dist.join(format!("{dir}/{tag}.json"));
            if plain.exists() {
                fs::copy(&plain, dist.join(format!("{dir}/{tag}.{hash}.json")))
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    let text = files.to_string();
    println!("{}: the loader loads {text}", dist.display());
    loader(dist, Some(&text))?;
    let name = |key: &str| files[key].as_str().unwrap_or_default().to_owned();
    Ok(Hashed {
        glue: name("glue"),
        wasm: name("wasm"),
    })
}

fn shipped_locales() -> impl Iterator<Item = &'static str> {
    nps_widget::i18n::LOCALES
        .iter()
        .copied()
        .filter(|tag| nps_widget::i18n::ships_as_file(tag))
}

/// The locale files' one hash, of all of them together (tag and content), so the module
/// carries one name for the set (`locales/fr.<hash>.json`).
fn locale_hash(dist: &Path) -> Result<String> {
    let mut set = Vec::new();
    for tag in shipped_locales() {
        set.extend_from_slice(tag.as_bytes());
        set.extend_from_slice(&read(&dist.join(format!("locales/{tag}.json")))?);
    }
    let name = hashed_name("set.json", &set);
    Ok(name.split('.').nth(1).unwrap_or_default().to_owned())
}

/// The `LOCALES=<hash>` definition with which the script tag's module and the fallback fetch
/// the locale files by their hashed names (`localeUrl` in `src/dom/browser.js`).
pub(crate) fn locales_define(dist: &Path) -> Result<String> {
    Ok(format!("LOCALES=\"{}\"", locale_hash(dist)?))
}

/// Builds `out/nps-widget.js`: `js/loader.js` with `js/gate.js` as one classic script
/// (Rollup), minified (terser), loading the files `files` names (JSON), or the plain names.
pub(crate) fn loader(out: &Path, files: Option<&str>) -> Result {
    let bundled = target_dir().join("loader.js");
    run(Command::new("node")
        .arg(root().join("node_modules/rollup/dist/bin/rollup"))
        .arg(root().join("js/loader.js"))
        .args(["--format", "iife", "--silent", "--file"])
        .arg(&bundled))?;
    let define = files.map(|f| format!("FILES={f}"));
    terser(
        &bundled,
        &out.join("nps-widget.js"),
        false,
        define.as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_eight_hex_digits_of_the_content() {
        let name = hashed_name("nps_widget_bg.wasm", b"\0asm");
        assert!(is_hashed(&name), "{name}");
        assert!(name.starts_with("nps_widget_bg.") && name.ends_with(".wasm"));
        assert_ne!(name, hashed_name("nps_widget_bg.wasm", b"\0asm!"));
        assert!(!is_hashed("nps_widget_bg.wasm"));
        assert!(!is_hashed("nps-widget.js"));
    }
}
