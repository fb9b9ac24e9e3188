//! Embeds the web app (frontend/dist, built by scripts/build-spa.sh) into the binary when it has been
//! built, so `pgward serve` needs no SPA directory. Without a build the table is empty and the server
//! falls back to `server.spa_dir`.

use std::path::Path;

/// The files a built web app always has (as spa.rs requires of `server.spa_dir`); the split loader,
/// page modules and shared chunks wasm-split writes next to them are embedded too, whatever their names.
const REQUIRED: [&str; 5] = [
    "index.html",
    "style.css",
    "boot.js",
    "spa.js",
    "spa_bg.wasm",
];

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let frontend = Path::new(&manifest).join("../../frontend");
    let dist = frontend.join("dist");
    // A missing path would rerun this script on every build (and rebuild the crate); watching the
    // frontend folder instead catches the first build of dist.
    let watched = if dist.is_dir() { &dist } else { &frontend };
    println!("cargo:rerun-if-changed={}", watched.display());
    // spa.rs checks a `server.spa_dir` against the same list: written once, here.
    let mut out = format!(
        "/// What a built web app always has (scripts/build-spa.sh); the split loader, page modules and\n\
         /// shared chunks come with it.\n\
         pub const REQUIRED: [&str; {}] = {REQUIRED:?};\n\n\
         /// The web app's files (name, bytes) as built when this binary was compiled; empty when\n\
         /// the web app had not been built.\n\
         pub static EMBEDDED: &[(&str, &[u8])] = &[\n",
        REQUIRED.len()
    );
    if REQUIRED.iter().all(|f| dist.join(f).is_file()) {
        let mut names: Vec<String> = std::fs::read_dir(&dist)
            .expect("read frontend/dist")
            .filter_map(|e| e.ok())
            // `Path::is_file` follows symlinks, as the check above does.
            .filter(|e| e.path().is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        // Sorted: the same dist embeds the same table (reproducible builds).
        names.sort();
        for f in names {
            let path = dist.join(&f).canonicalize().expect("canonical path");
            out.push_str(&format!(
                "    ({f:?}, include_bytes!({:?})),\n",
                path.display().to_string()
            ));
        }
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("spa_assets.rs");
    std::fs::write(target, out).expect("write spa_assets.rs");
}
