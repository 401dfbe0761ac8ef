//! Short import and export names. wasm-bindgen names each import `__wbg_<name>_<16 hex>` and
//! each export after its Rust path; both sit in the wasm and again in the glue, and hex does not
//! compress. binaryen's `--minify-imports-and-exports-and-modules` renames them all (one module,
//! `a`; names `A`, `B`, …) and prints the mapping, which this module applies to the glue:
//! - the glue's own imports (`__wbg_…: function`) get their new names as keys;
//! - imports the wasm takes straight from a snippet (`hidden` from `inline0.js`) become entries
//!   of the same object (`D: import2.hidden`);
//! - the object of modules becomes `{ a: import0 }`;
//! - `wasm.<export>` becomes `wasm.<new name>`.
//!
//! Every rename must find its one place in the glue, or the build fails: a wasm-bindgen that
//! writes its glue differently is caught here, not in a browser.

use crate::Result;

/// The mapping wasm-opt prints: `{ "imports": [[module, name, new]], "exports": [[name, new]] }`.
pub(crate) struct Renames {
    imports: Vec<(String, String, String)>,
    exports: Vec<(String, String)>,
}

pub(crate) fn parse(json: &str) -> Result<Renames> {
    let start = json
        .find('{')
        .ok_or("minify: wasm-opt printed no mapping")?;
    let v: serde_json::Value =
        serde_json::from_str(&json[start..]).map_err(|e| format!("minify: mapping: {e}"))?;
    let strings = |row: &serde_json::Value| -> Vec<String> {
        row.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let rows = |key: &str| v[key].as_array().cloned().unwrap_or_default();
    let mut imports = Vec::new();
    for row in rows("imports") {
        match &strings(&row)[..] {
            [module, name, new] => imports.push((module.clone(), name.clone(), new.clone())),
            _ => return Err(format!("minify: bad import row {row}")),
        }
    }
    let mut exports = Vec::new();
    for row in rows("exports") {
        match &strings(&row)[..] {
            [name, new] => exports.push((name.clone(), new.clone())),
            _ => return Err(format!("minify: bad export row {row}")),
        }
    }
    Ok(Renames { imports, exports })
}

/// The glue (`--target web`) with the new names; `module` is the one import module left.
pub(crate) fn patch_glue(glue: &str, renames: &Renames, module: &str) -> Result<String> {
    const OBJECT: &str = "    const import0 = {\n        __proto__: null,\n";
    const MODULES: &str =
        "    return {\n        __proto__: null,\n        \"./nps_widget_bg.js\": import0,\n";
    let mut out = glue.to_owned();
    // Which variable holds each snippet's namespace (`"./snippets/…/inline0.js": import2,`).
    let modules_at = out
        .find(MODULES)
        .ok_or("minify: the glue's import modules not found")?;
    let modules_end = modules_at
        + out[modules_at..]
            .find("\n    };\n")
            .ok_or("minify: the end of the glue's import modules not found")?;
    let namespaces: Vec<(String, String)> = out[modules_at + MODULES.len()..modules_end]
        .lines()
        .filter_map(|l| {
            let (path, var) = l.trim().trim_end_matches(',').split_once(": ")?;
            Some((path.trim_matches('"').to_owned(), var.to_owned()))
        })
        .collect();
    out.replace_range(
        modules_at..modules_end + "\n    };\n".len(),
        &format!("    return {{ __proto__: null, {module}: import0 }};\n"),
    );

    let mut added = String::new();
    for (from, name, new) in &renames.imports {
        if from == "./nps_widget_bg.js" {
            let key = format!("        {name}: ");
            if out.matches(&key).count() != 1 {
                return Err(format!("minify: import {name} is not one key of the glue"));
            }
            out = out.replacen(&key, &format!("        {new}: "), 1);
        } else {
            let var = namespaces
                .iter()
                .rev()
                .find(|(path, _)| path == from)
                .map(|(_, var)| var)
                .ok_or_else(|| format!("minify: no namespace for the module {from}"))?;
            added.push_str(&format!("        {new}: {var}.{name},\n"));
        }
    }
    let at = out
        .find(OBJECT)
        .ok_or("minify: the glue's import object not found")?
        + OBJECT.len();
    out.insert_str(at, &added);

    for (name, new) in &renames.exports {
        let from = format!("wasm.{name}");
        let mut patched = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(&from) {
            let after = &rest[i + from.len()..];
            let whole = !after.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$');
            patched.push_str(&rest[..i]);
            patched.push_str(if whole { "wasm." } else { &from });
            if whole {
                patched.push_str(new);
            }
            rest = after;
        }
        patched.push_str(rest);
        out = patched;
    }
    // The exports object `init()` resolves to keeps `memory` under its own name.
    const EXPORTS: &str = "    wasm = instance.exports;\n";
    let memory = renames
        .exports
        .iter()
        .find(|(name, _)| name == "memory")
        .map(|(_, new)| new)
        .ok_or("minify: no memory export")?;
    if out.matches(EXPORTS).count() != 1 {
        return Err("minify: the glue's `wasm = instance.exports` not found once".into());
    }
    out = out.replacen(
        EXPORTS,
        &format!("    wasm = {{ ...instance.exports, memory: instance.exports.{memory} }};\n"),
        1,
    );
    Ok(out)
}

/// The `.d.ts` to match: of `InitOutput`, only `memory` keeps its name.
pub(crate) fn patch_types(types: &str) -> Result<String> {
    const START: &str = "export interface InitOutput {\n";
    let at = types
        .find(START)
        .ok_or("minify: no InitOutput in the types")?
        + START.len();
    let end = at
        + types[at..]
            .find("\n}\n")
            .ok_or("minify: InitOutput does not end")?;
    let mut out = types.to_owned();
    out.replace_range(at..end, "    readonly memory: WebAssembly.Memory;");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_exports_and_modules_take_their_new_names() {
        let glue = "import * as import1 from \"./snippets/x/inline0.js\"\n\
function __wbg_get_imports() {\n    const import0 = {\n        __proto__: null,\n        \
__wbg_load_0123456789abcdef: function(arg0) {\n            return load(arg0);\n        },\n    };\n    \
return {\n        __proto__: null,\n        \"./nps_widget_bg.js\": import0,\n        \
\"./snippets/x/inline0.js\": import1,\n    };\n}\n\
wasm.memory.buffer; wasm.npswidget_create(1); wasm.npswidget_created_not;\n\
function __wbg_finalize_init(instance, module) {\n    wasm = instance.exports;\n    return wasm;\n}\n";
        let renames = parse(
            r#"{"imports": [["./nps_widget_bg.js", "__wbg_load_0123456789abcdef", "A"],
                            ["./snippets/x/inline0.js", "hidden", "B"]],
                "exports": [["memory", "X"], ["npswidget_create", "Y"]]}"#,
        )
        .unwrap();
        let out = patch_glue(glue, &renames, "a").unwrap();
        assert!(
            out.contains(
                "        __proto__: null,\n        B: import1.hidden,\n        A: function(arg0)"
            ),
            "{out}"
        );
        assert!(
            out.contains("    return { __proto__: null, a: import0 };\n}\n"),
            "{out}"
        );
        assert!(
            out.contains("wasm.X.buffer; wasm.Y(1); wasm.npswidget_created_not;"),
            "{out}"
        );
        assert!(!out.contains("__wbg_load"));
        assert!(out.contains("    wasm = { ...instance.exports, memory: instance.exports.X };\n"));
        let types = "export interface InitOutput {\n    readonly memory: WebAssembly.Memory;\n    readonly npswidget_create: (a: any) => number;\n}\nexport type X = 1;\n";
        assert_eq!(
            patch_types(types).unwrap(),
            "export interface InitOutput {\n    readonly memory: WebAssembly.Memory;\n}\nexport type X = 1;\n"
        );

        let missing =
            parse(r#"{"imports": [["./nps_widget_bg.js", "__wbg_gone_0", "A"]], "exports": []}"#)
                .unwrap();
        assert!(patch_glue(glue, &missing, "a")
            .unwrap_err()
            .contains("__wbg_gone_0"));
    }
}
