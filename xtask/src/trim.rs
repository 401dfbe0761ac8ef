//! wasm-bindgen's start-up code, trimmed to what the widget needs: the async `init` only (no
//! `initSync`), no console warnings for deprecated call forms, and no `encodeInto` polyfill
//! (every browser that runs our wasm has it; the fallback build keeps its own glue). Each cut
//! must find its exact text once, or the build fails: a wasm-bindgen that writes its glue
//! differently is caught here, not in a browser.

use crate::Result;

/// `(what bindgen writes, what we ship instead)`.
const CUTS: [(&str, &str); 5] = [
    (
        "async function __wbg_load(module, imports) {
    if (typeof Response === 'function' && module instanceof Response) {
        if (!module.ok) {
            throw new Error(`failed to fetch Wasm: ${module.status} ${module.statusText} fetching '${module.url}'`);
        }

        if (typeof WebAssembly.instantiateStreaming === 'function') {
            try {
                return await WebAssembly.instantiateStreaming(module, imports);
            } catch (e) {
                const validResponse = expectedResponseType(module.type);

                if (validResponse && module.headers.get('Content-Type') !== 'application/wasm') {
                    console.warn(\"`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. Original error:\\n\", e);

                } else { throw e; }
            }
        }

        const bytes = await module.arrayBuffer();
        return await WebAssembly.instantiate(bytes, imports);
    } else {
        const instance = await WebAssembly.instantiate(module, imports);

        if (instance instanceof WebAssembly.Instance) {
            return { instance, module };
        } else {
            return instance;
        }
    }

    function expectedResponseType(type) {
        switch (type) {
            case 'basic': case 'cors': case 'default': return true;
        }
        return false;
    }
}
",
        // Streaming compiles while the bytes arrive. Without it (or from a server that does not
        // send `application/wasm`, refused before the body is read) the bytes compile whole.
        "async function __wbg_load(module, imports) {
    if (typeof Response === 'function' && module instanceof Response) {
        if (!module.ok) throw new Error(`failed to fetch Wasm: ${module.status} fetching '${module.url}'`);
        try { return await WebAssembly.instantiateStreaming(module, imports); }
        catch (e) { if (module.bodyUsed) throw e; }
        return await WebAssembly.instantiate(await module.arrayBuffer(), imports);
    }
    const instance = await WebAssembly.instantiate(module, imports);
    return instance instanceof WebAssembly.Instance ? { instance, module } : instance;
}
",
    ),
    (
        "function initSync(module) {
    if (wasm !== undefined) return wasm;


    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            ({module} = module)
        } else {
            console.warn('using deprecated parameters for `initSync()`; pass a single object instead')
        }
    }

    const imports = __wbg_get_imports();
    if (!(module instanceof WebAssembly.Module)) {
        module = new WebAssembly.Module(module);
    }
    const instance = new WebAssembly.Instance(module, imports);
    return __wbg_finalize_init(instance, module);
}
",
        "",
    ),
    (
        "export { initSync, __wbg_init as default };",
        "export { __wbg_init as default };",
    ),
    (
        "    if (module_or_path !== undefined) {
        if (Object.getPrototypeOf(module_or_path) === Object.prototype) {
            ({module_or_path} = module_or_path)
        } else {
            console.warn('using deprecated parameters for the initialization function; pass a single object instead')
        }
    }
",
        "    if (module_or_path !== undefined && Object.getPrototypeOf(module_or_path) === Object.prototype) {
        ({module_or_path} = module_or_path);
    }
",
    ),
    (
        "if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}
",
        "",
    ),
];

/// The declarations of what [`init`] removes.
const TYPE_CUTS: [&str; 2] = [
    "export type SyncInitInput = BufferSource | WebAssembly.Module;\n\n",
    "/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;\n\n",
];

/// The glue with its start-up code trimmed.
pub(crate) fn init(glue: &str) -> Result<String> {
    let mut out = glue.to_owned();
    for (from, to) in CUTS {
        if out.matches(from).count() != 1 {
            let first = from.lines().next().unwrap_or(from);
            return Err(format!("trim: the glue no longer has, once: {first}"));
        }
        out = out.replace(from, to);
    }
    Ok(out)
}

/// The types without `initSync`.
pub(crate) fn types(types: &str) -> Result<String> {
    let mut out = types.to_owned();
    for cut in TYPE_CUTS {
        if out.matches(cut).count() != 1 {
            let first = cut.lines().next().unwrap_or(cut);
            return Err(format!("trim: the types no longer have, once: {first}"));
        }
        out = out.replace(cut, "");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cut_must_find_its_text() {
        let glue: String = CUTS
            .iter()
            .map(|(from, _)| format!("{from}\n// between\n"))
            .collect();
        let out = init(&glue).unwrap();
        assert!(
            !out.contains("initSync") && !out.contains("console.warn"),
            "{out}"
        );
        assert!(
            out.contains("module.bodyUsed") && out.contains("export { __wbg_init as default };")
        );
        let err = init(&glue.replace("function initSync", "function initSyncX")).unwrap_err();
        assert!(err.contains("function initSync(module)"), "{err}");
        let types_in: String = TYPE_CUTS.concat();
        assert_eq!(types(&types_in).unwrap(), "");
        assert!(types("").is_err());
    }
}
