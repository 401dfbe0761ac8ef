//! Which stylesheet the card ships: `src/dom/card.css` as written, or, when `cargo xtask dist`
//! builds the widget, the same file minified by Lightning CSS (`NPS_CARD_CSS` names it).
fn main() {
    println!("cargo:rerun-if-env-changed=NPS_CARD_CSS");
    let css = std::env::var("NPS_CARD_CSS").unwrap_or_else(|_| {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        format!("{dir}/src/dom/card.css")
    });
    println!("cargo:rustc-env=NPS_CARD_CSS={css}");
}
