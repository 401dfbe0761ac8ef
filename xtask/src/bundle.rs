//! Folds wasm-bindgen's JS snippets (`module = "/src/dom/browser.js"`) into its
//! glue module, so a page fetches one JS module instead of two: one gzip stream compresses
//! better than two, and a round trip goes away.
//!
//! Each snippet becomes a function scope that returns its exports; the glue's imports of it
//! (`import { a } from './snippets/…'` and `import * as importN from "./snippets/…"`) become
//! constants. Our snippets are plain: `export function` / `export let` at the start of a line,
//! no imports of their own; anything else is refused rather than bundled wrongly. Inside a
//! snippet, `import.meta.url` is now the glue's URL: paths next to the glue (`locales/`) work.

use std::fs;
use std::path::Path;

use crate::Result;

pub(crate) fn inline_snippets(glue: &str, dir: &Path) -> Result<String> {
    let mut out = String::new();
    let mut modules: Vec<String> = Vec::new();
    for line in glue.lines() {
        let Some(import) = line.strip_prefix("import ") else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let (what, from) = import
            .rsplit_once(" from ")
            .ok_or_else(|| format!("bundle: unexpected import in the glue: {line}"))?;
        let path = from.trim_end_matches(';').trim_matches(['\'', '"']);
        if !path.starts_with("./snippets/") {
            return Err(format!(
                "bundle: the glue imports something that is not a snippet: {line}"
            ));
        }
        let index = match modules.iter().position(|m| m == path) {
            Some(i) => i,
            None => {
                let source = fs::read_to_string(dir.join(path))
                    .map_err(|e| format!("bundle: {path}: {e}"))?;
                out.push_str(&scope(modules.len(), path, &source)?);
                modules.push(path.to_owned());
                modules.len() - 1
            }
        };
        let name = what.strip_prefix("* as ").unwrap_or(what);
        out.push_str(&format!("const {name} = snippet{index};\n"));
    }
    Ok(out)
}

/// `const snippetN = (() => { …source without `export`…; return { exports }; })();`
fn scope(index: usize, path: &str, source: &str) -> Result<String> {
    let mut body = String::new();
    let mut exports = Vec::new();
    for line in source.lines() {
        if line.trim_start().starts_with("import ") || line.starts_with("export default") {
            return Err(format!(
                "bundle: {path}: imports and default exports are not bundled"
            ));
        }
        let Some(declaration) = line.strip_prefix("export ") else {
            if line.contains("export ") && !line.trim_start().starts_with("//") {
                return Err(format!(
                    "bundle: {path}: an export not at the start of a line"
                ));
            }
            body.push_str(line);
            body.push('\n');
            continue;
        };
        let name = ["function ", "let ", "const "]
            .iter()
            .find_map(|kw| declaration.strip_prefix(kw))
            .map(|rest| {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                    .next()
                    .unwrap_or("")
            })
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("bundle: {path}: cannot read the export in: {line}"))?;
        exports.push(name.to_owned());
        body.push_str(declaration);
        body.push('\n');
    }
    Ok(format!(
        "const snippet{index} = (() => {{\n{body}return {{ {} }};\n}})();\n",
        exports.join(", ")
    ))
}

/// The wasm exports the class in `js/api.js` calls; nothing else may call them.
pub(crate) const API_EXPORTS: [&str; 5] = [
    "nps_start",
    "nps_show",
    "nps_hide",
    "nps_destroy",
    "nps_identify",
];

/// Adds the public class (`js/api.js`) to a glue module and makes the wasm exports it wraps
/// private to the module (so the minifier may rename them). Fails when the glue does not export
/// each of them exactly once.
pub(crate) fn add_api(glue: &str, api: &str) -> Result<String> {
    let mut out = glue.to_owned();
    for name in API_EXPORTS {
        let exported = format!("export function {name}(");
        if out.matches(&exported).count() != 1 {
            return Err(format!("bundle: the glue does not export {name} once"));
        }
        out = out.replace(&exported, &exported["export ".len()..]);
    }
    out.push_str(api);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_become_scopes_and_imports_constants() {
        let dir = std::env::temp_dir().join(format!("nps-bundle-{}", std::process::id()));
        fs::create_dir_all(dir.join("snippets/x")).unwrap();
        fs::write(
            dir.join("snippets/x/a.js"),
            "let n = 1;\nexport function add(a) { return a + n; }\nexport let k = 2;\n",
        )
        .unwrap();
        let glue = "import { add } from './snippets/x/a.js';\nimport * as import1 from \"./snippets/x/a.js\"\nexport const y = add(1) + import1.k;\n";
        let out = inline_snippets(glue, &dir).unwrap();
        assert!(out.contains("const snippet0 = (() => {\nlet n = 1;\nfunction add(a)"));
        assert!(out.contains("return { add, k };"));
        assert!(out.contains("const { add } = snippet0;\n"));
        assert!(out.contains("const import1 = snippet0;\n"));
        assert_eq!(
            out.matches("const snippet").count(),
            1,
            "one scope per snippet"
        );
        assert!(out.ends_with("export const y = add(1) + import1.k;\n"));

        fs::write(dir.join("snippets/x/b.js"), "export default 1;\n").unwrap();
        let err = inline_snippets("import * as b from './snippets/x/b.js';\n", &dir).unwrap_err();
        assert!(err.contains("default exports"), "{err}");
        let err = inline_snippets("import { z } from 'https://cdn/z.js';\n", &dir).unwrap_err();
        assert!(err.contains("not a snippet"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_api_class_is_added_and_the_raw_exports_made_private() {
        let mut glue = String::new();
        for name in API_EXPORTS {
            glue.push_str(&format!("export function {name}(id) {{ wasm.x(id); }}\n"));
        }
        glue.push_str("export { initSync };\n");
        let out = add_api(&glue, "export class NpsWidget {}\n").unwrap();
        assert!(!out.contains("export function nps_"), "{out}");
        assert!(out.contains("function nps_show(id)"));
        assert!(out.ends_with("export { initSync };\nexport class NpsWidget {}\n"));
        let err = add_api("export function nps_start(c) {}\n", "").unwrap_err();
        assert!(err.contains("nps_show"), "{err}");
    }
}
