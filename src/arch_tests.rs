//! The house rules of `ARCHITECTURE.md`, checked on the source text: arrows point down
//! only. A rule broken here fails a test instead of growing into a cycle unnoticed.
//!
//! The checks read code, not comments: a doc comment may name a module above it.

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, as (path relative to `src/`, code without comments).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let sources: Vec<_> = files
        .into_iter()
        // This file names the rules it checks.
        .filter(|p| !p.ends_with("arch_tests.rs"))
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .expect("under src/")
                .to_string_lossy()
                .replace('\\', "/");
            let text = fs::read_to_string(&p).expect("a source file is UTF-8");
            (rel, code_of(&text))
        })
        .collect();
    assert!(sources.len() > 50, "found only {} files", sources.len());
    sources
}

/// The text without `//` comments (line and doc comments), so that a doc comment may
/// mention a module it does not use.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| {
            // A `//` after an odd count of quotes is inside a string literal (a URL).
            let comment = line
                .match_indices("//")
                .map(|(i, _)| i)
                .find(|&i| line[..i].matches('"').count() % 2 == 0);
            comment.map_or(line, |i| &line[..i])
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifiers of `code`, in order.
fn identifiers(code: &str) -> impl Iterator<Item = &str> {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// The lines of `code` that contain `needle`, as "file:line: text".
fn lines_with(file: &str, code: &str, needle: impl Fn(&str) -> bool) -> Vec<String> {
    code.lines()
        .enumerate()
        .filter(|(_, l)| needle(l))
        .map(|(i, l)| format!("src/{file}:{}: {}", i + 1, l.trim()))
        .collect()
}

fn assert_none(rule: &str, found: Vec<String>) {
    assert!(found.is_empty(), "{rule}:\n{}", found.join("\n"));
}

#[test]
fn nothing_but_the_transport_imports_api() {
    let found = sources()
        .into_iter()
        .filter(|(f, _)| !f.starts_with("api/") && !f.starts_with("startup"))
        .flat_map(|(f, code)| lines_with(&f, &code, |l| l.contains("crate::api")))
        .collect();
    assert_none("only api/ and startup may use crate::api", found);
}

#[test]
fn domain_imports_nothing_of_the_crate_but_domain() {
    let found = sources()
        .into_iter()
        .filter(|(f, _)| f.starts_with("domain/"))
        .flat_map(|(f, code)| {
            // In domain/mod.rs `super::` is the crate root; elsewhere it is domain.
            let at_root = f == "domain/mod.rs";
            lines_with(&f, &code, |l| {
                l.split("crate::")
                    .skip(1)
                    .any(|rest| !rest.starts_with("domain"))
                    || (at_root && l.contains("super::"))
            })
        })
        .collect();
    assert_none("domain/ may use only crate::domain", found);
}

#[test]
fn no_protocol_types_below_the_transport() {
    let below = ["process/", "domain/", "render/", "store/", "sign/"];
    let found = sources()
        .into_iter()
        .filter(|(f, _)| below.iter().any(|b| f.starts_with(b)))
        .flat_map(|(f, code)| {
            lines_with(&f, &code, |l| {
                identifiers(l).any(|w| {
                    w == "tonic"
                        || w == "prost"
                        || w.starts_with("tonic_")
                        || w.starts_with("prost_")
                })
            })
        })
        .collect();
    assert_none(
        "tonic and prost stay in api/ (process, domain, render, store, sign know neither)",
        found,
    );
}

#[test]
fn the_web_pages_read_through_the_process_layer_only() {
    let found = sources()
        .into_iter()
        .filter(|(f, _)| f.starts_with("web/"))
        .flat_map(|(f, code)| {
            lines_with(&f, &code, |l| {
                l.contains("crate::api")
                    || l.contains("crate::startup")
                    || l.contains("crate::store")
                    || identifiers(l).any(|w| w == "sqlx" || w == "tonic" || w == "prost")
            })
        })
        .collect();
    assert_none(
        "web/ uses process (and domain, sign's verdicts), never api, startup, store, sqlx or tonic",
        found,
    );
}

#[test]
fn nothing_below_the_transports_imports_web() {
    let found = sources()
        .into_iter()
        .filter(|(f, _)| !f.starts_with("web/") && !f.starts_with("startup"))
        .flat_map(|(f, code)| lines_with(&f, &code, |l| l.contains("crate::web")))
        .collect();
    assert_none("only startup may use crate::web", found);
}

#[test]
fn identity_is_a_leaf() {
    let found = sources()
        .into_iter()
        .filter(|(f, _)| f == "identity.rs")
        .flat_map(|(f, code)| {
            lines_with(&f, &code, |l| {
                // `super::*` in a test module of identity.rs is identity itself.
                l.contains("crate::")
                    || l.contains("kvota::")
                    || (l.contains("super::") && !l.contains("super::*"))
            })
        })
        .collect();
    assert_none("identity.rs uses nothing of the crate", found);
}

#[test]
fn comments_are_not_code() {
    assert_eq!(
        code_of("use a; // crate::api\n/// [`crate::api`]"),
        "use a; \n"
    );
    assert_eq!(
        code_of(r#"let u = "http://x"; // c"#),
        r#"let u = "http://x"; "#
    );
}
