//! Tidy checks that run as tests (rust-analyzer's idea): the architecture's rules, checked on
//! every `cargo xtask test` so they cannot quietly erode.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    crate::root()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target"
                && name != "node_modules"
                && !name.to_string_lossy().starts_with('.')
            {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["crates", "tests", "xtask", "src-tauri/src"] {
        rust_files(&root().join(dir), &mut files);
    }
    files
}

fn crate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").exists())
        .collect();
    dirs.push(root().join("tests"));
    dirs.push(root().join("xtask"));
    dirs.push(root().join("src-tauri"));
    dirs
}

#[test]
fn every_crate_opens_with_a_doc_paragraph() {
    for dir in crate_dirs() {
        let top = ["src/lib.rs", "src/main.rs"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.exists());
        let top = top.unwrap_or_else(|| panic!("{} has no lib.rs or main.rs", dir.display()));
        let text = std::fs::read_to_string(&top).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} must start with a //! paragraph",
            top.display()
        );
    }
}

#[test]
fn no_module_grows_past_700_lines() {
    for file in all_rust_files() {
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        assert!(
            lines <= 700,
            "{} has {lines} lines; split it by concern",
            file.display()
        );
    }
}

/// Invariant 2: the engine crates never depend on UI or transport crates. Invariant 1: only
/// the store talks SQL (the bench may, for its raw baseline).
#[test]
fn dependency_rules_hold() {
    let engine_crates = ["core", "store", "supervisor", "power", "engine", "api"];
    let forbidden = ["tauri", "axum", "clap", "notify-rust", "hyper", "ureq"];
    for name in engine_crates {
        let manifest =
            std::fs::read_to_string(root().join("crates").join(name).join("Cargo.toml")).unwrap();
        for dep in forbidden {
            let uses = manifest.lines().any(|l| {
                l.trim_start().starts_with(&format!("{dep} "))
                    || l.trim_start().starts_with(&format!("{dep}."))
            });
            assert!(
                !uses,
                "crates/{name} depends on {dep} (DESIGN.md invariant 2)"
            );
        }
    }
    for dir in crate_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if name == "store" || name == "bench" {
            continue;
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        // The end-to-end tests read a database from outside with SQLite's own shell instead.
        let uses = manifest
            .lines()
            .any(|l| l.trim_start().starts_with("rusqlite"));
        assert!(
            !uses,
            "{name} depends on rusqlite; only the store talks SQL (invariant 1)"
        );
    }
}

#[test]
fn no_ignored_tests_or_stubs() {
    let banned = [
        concat!("#[", "ignore"),
        concat!("todo", "!("),
        concat!("unimplemented", "!("),
    ];
    for file in all_rust_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for b in banned {
            assert!(!text.contains(b), "{} contains {b}", file.display());
        }
    }
}

#[test]
fn ci_runs_the_readme_test_command() {
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        ci.contains("cargo xtask test"),
        ".ci/run must run `cargo xtask test`"
    );
    assert!(
        readme.contains("cargo xtask test"),
        "README must show `cargo xtask test`"
    );
    assert!(
        readme.contains("cargo xtask run"),
        "README must show `cargo xtask run`"
    );
}

/// SQLite (3.47 on) plans a query for the value bound to a bare `LIMIT ?N` and so marks the
/// statement to be prepared again whenever that parameter is bound anew: a cached statement
/// with one is parsed and planned on every use (the claim did this once per job). Written as
/// `LIMIT CAST(?N AS INTEGER)` the statement stays prepared.
#[test]
fn no_store_statement_binds_a_bare_limit() {
    let mut files = Vec::new();
    rust_files(&root().join("crates/store/src"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            assert!(
                !code.to_ascii_uppercase().contains("LIMIT ?"),
                "{}:{}: bind the limit as `LIMIT CAST(?N AS INTEGER)`, not `LIMIT ?N` (see this test)",
                file.display(),
                n + 1
            );
        }
    }
}
