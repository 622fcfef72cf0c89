//! Embeds the web UI's build (`ui/dist`) so the binary serves it with nothing beside it. If the
//! UI has not been built, the server answers `/` with a page that says how to build it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut found = Vec::new();
    if let Ok(dist) = dist.canonicalize() {
        files(&dist, &mut found);
        found.sort();
        let mut code = String::from("pub(crate) const UI_FILES: &[(&str, &[u8])] = &[\n");
        for path in &found {
            println!("cargo:rerun-if-changed={}", path.display());
            let name = path
                .strip_prefix(&dist)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            writeln!(
                code,
                "    ({name:?}, include_bytes!({:?})),",
                path.display().to_string()
            )
            .unwrap();
        }
        code.push_str("];\n");
        write(&code);
    } else {
        println!("cargo:warning=ui/dist not found: the local server will say how to build the UI");
        write("pub(crate) const UI_FILES: &[(&str, &[u8])] = &[];\n");
    }
}

fn write(code: &str) {
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("ui_files.rs");
    std::fs::write(out, code).unwrap();
}
