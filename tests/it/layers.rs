//! The layering rules of docs/ARCHITECTURE.md that a text search can check: no import
//! circles between the modules of `web/` or of `service/`, and `web/` writes nothing
//! through `store` directly (it reads through `service`, or `store` for simple reads).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The modules of `src/LAYER/` each module names (`super::x` or `crate::LAYER::x`),
/// unit tests left out.
fn imports(layer: &str) -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut modules = BTreeMap::new();
    // A module is a file `NAME.rs` or a folder `NAME/` (all its files together).
    let sources: BTreeMap<String, String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name()?.to_str()?.to_string();
            let name = match name.strip_suffix(".rs") {
                Some(stem) => stem.to_string(),
                None if path.is_dir() => name,
                None => return None,
            };
            // In a folder's files other than `mod.rs`, `super::` is the folder itself.
            let text: String = rust_files(&path)
                .iter()
                .map(|f| {
                    let text = std::fs::read_to_string(f).unwrap();
                    if path.is_dir() && !f.ends_with("mod.rs") {
                        text.replace("super::", "sibling::")
                    } else {
                        text
                    }
                })
                .collect();
            Some((name, text))
        })
        .filter(|(n, _)| n != "mod")
        .collect();
    for (name, text) in &sources {
        let code = text.split("#[cfg(test)]").next().unwrap();
        let mut used = BTreeSet::new();
        for prefix in ["super::".to_string(), format!("crate::{layer}::")] {
            for (i, _) in code.match_indices(&prefix) {
                let rest = &code[i + prefix.len()..];
                // `super::x`, or each name of `super::{x, y::z, …}`.
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    Some(list) => list
                        .split('}')
                        .next()
                        .unwrap_or("")
                        .split(',')
                        .map(|n| n.trim())
                        .collect(),
                    None => vec![rest],
                };
                for n in names {
                    let word: String = n
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if sources.contains_key(&word) && word != *name {
                        used.insert(word);
                    }
                }
            }
        }
        modules.insert(name.clone(), used);
    }
    modules
}

/// The `.rs` files at `path`: itself, or those of a folder and its subfolders.
fn rust_files(path: &Path) -> Vec<std::path::PathBuf> {
    if !path.is_dir() {
        return vec![path.to_owned()];
    }
    let mut files: Vec<_> = std::fs::read_dir(path)
        .unwrap()
        .flat_map(|e| rust_files(&e.unwrap().path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    files
}

/// A circle of imports among `graph`'s modules, if there is one (depth-first search).
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(graph, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(graph, n, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_circles_in_web_or_service() {
    for layer in ["web", "service"] {
        let graph = imports(layer);
        assert!(graph.len() > 10, "{layer}: its modules are read");
        if let Some(c) = circle(&graph) {
            panic!(
                "{layer}: modules import each other in a circle: {}",
                c.join(" → ")
            );
        }
    }
    // The check sees a circle when there is one.
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(circle(&g).map(|c| c.len()), Some(3));
}

#[test]
fn web_writes_nothing_through_store() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    // The store's writing functions, by the verbs they are named with.
    let verbs = [
        "insert", "record", "add", "set", "delete", "remove", "create", "update", "mark", "hit",
        "append", "save", "put", "grant", "revoke", "forget",
    ];
    for path in rust_files(&dir) {
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, _) in text.match_indices("store::") {
            let call: String = text[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let function = call.rsplit("::").next().unwrap_or("");
            assert!(
                !verbs.iter().any(|v| function.starts_with(v)),
                "{}: {call} writes through the store; call a service function",
                path.display()
            );
        }
    }
}

#[test]
fn pages_and_answers_are_typed_structs_not_maps() {
    // Every page is a `view::Page` struct and every JSON answer a `Serialize` struct:
    // an untyped map hides from the compiler what a template or a client reads.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let files = rust_files(&dir);
    assert!(files.len() > 20, "web/ is read");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for untyped in ["json!(", "serde_json::Map", "Map<String, Value>"] {
            assert!(
                !text.contains(untyped),
                "{}: builds data with {untyped}; give it a #[derive(Serialize)] struct \
                 (docs/ARCHITECTURE.md, \"Adding a page\")",
                path.display()
            );
        }
    }
}
