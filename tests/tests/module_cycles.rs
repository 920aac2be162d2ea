//! No import circles between the files of a crate (issue 17, and DESIGN's "files inside one
//! crate import each other without circles").
//!
//! The same question `cargo modules dependencies --acyclic` answers, asked of the source
//! with `syn` so CI needs no rust-analyzer build: every file of a crate is a node, and a
//! file that names an item of another file's module (by `use`, or by a path in its code
//! that starts with `crate::`, `super::`, `self::` or a child module's name) has an edge to
//! it. Inline modules belong to their file; `#[cfg(test)]` items are left out, as
//! `cargo modules` leaves them out by default. A cycle is a group of
//! files that reach each other; each crate's test prints every such group.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module of the crate: where its items are written.
struct Module {
    file: PathBuf,
    children: BTreeSet<String>,
}

/// The crate's modules by path (`[]` is the root), and every file's references as module
/// paths (absolute, not yet resolved to a module).
#[derive(Default)]
struct Crate {
    modules: BTreeMap<Vec<String>, Module>,
    references: Vec<(PathBuf, Vec<String>, Vec<String>)>,
}

impl Crate {
    fn load(root: &Path) -> Crate {
        let mut krate = Crate::default();
        let dir = root.parent().unwrap().to_owned();
        krate.file(root, &dir, Vec::new());
        krate
    }

    /// Reads the module `path` from `file`, whose child modules' files live in `dir`.
    fn file(&mut self, file: &Path, dir: &Path, path: Vec<String>) {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let ast =
            syn::parse_file(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", file.display()));
        self.items(&ast.items, file, dir, path);
    }

    fn items(&mut self, items: &[syn::Item], file: &Path, dir: &Path, path: Vec<String>) {
        self.modules.insert(
            path.clone(),
            Module {
                file: file.to_owned(),
                children: BTreeSet::new(),
            },
        );
        let mut refs = References::default();
        for item in items.iter().filter(|item| !test_only(item)) {
            match item {
                syn::Item::Mod(m) => {
                    let name = m.ident.to_string();
                    self.modules
                        .get_mut(&path)
                        .unwrap()
                        .children
                        .insert(name.clone());
                    let mut child = path.clone();
                    child.push(name.clone());
                    match &m.content {
                        // Inline: its own directory is `dir/name` for any file children.
                        Some((_, inner)) => self.items(inner, file, &dir.join(&name), child),
                        None => {
                            let flat = dir.join(format!("{name}.rs"));
                            let nested = dir.join(&name).join("mod.rs");
                            let (child_file, child_dir) = if flat.exists() {
                                (flat, dir.join(&name))
                            } else if nested.exists() {
                                (nested, dir.join(&name))
                            } else {
                                panic!("no file for mod {name} in {}", dir.display())
                            };
                            self.file(&child_file, &child_dir, child);
                        }
                    }
                }
                syn::Item::Use(u) => use_paths(&u.tree, Vec::new(), &mut refs.paths),
                other => refs.visit_item(other),
            }
        }
        for r in refs.paths {
            self.references.push((file.to_owned(), path.clone(), r));
        }
    }

    /// The module a reference from module `from` names: made absolute, then cut to the
    /// longest prefix that is a module. `None` for paths outside the crate.
    fn resolve(&self, from: &[String], path: &[String]) -> Option<&Module> {
        let mut at: Vec<String> = from.to_vec();
        let mut rest = path;
        match path.first().map(String::as_str) {
            Some("crate") => {
                at.clear();
                rest = &path[1..];
            }
            Some("self") => rest = &path[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    at.pop();
                    rest = &rest[1..];
                }
            }
            Some(first) if self.modules[from].children.contains(first) => {}
            _ => return None,
        }
        at.extend(rest.iter().cloned());
        (0..=at.len())
            .rev()
            .find_map(|n| self.modules.get(&at[..n]))
    }

    /// File → the files it references.
    fn edges(&self) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
        let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = self
            .modules
            .values()
            .map(|m| (m.file.clone(), BTreeSet::new()))
            .collect();
        for (file, from, path) in &self.references {
            if let Some(target) = self.resolve(from, path) {
                if &target.file != file {
                    edges.get_mut(file).unwrap().insert(target.file.clone());
                }
            }
        }
        edges
    }
}

/// Items under `#[cfg(test)]`: a test module may import what it likes, as in
/// `cargo modules`, which leaves them out unless asked (`--cfg-test`).
fn test_only(item: &syn::Item) -> bool {
    let attrs = match item {
        syn::Item::Mod(m) => &m.attrs,
        syn::Item::Use(u) => &u.attrs,
        syn::Item::Fn(f) => &f.attrs,
        syn::Item::Impl(i) => &i.attrs,
        _ => return false,
    };
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

/// Paths named by a `use` tree, one per leaf (a glob names its module).
fn use_paths(tree: &syn::UseTree, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let with = |name: String| {
        let mut p = prefix.clone();
        p.push(name);
        p
    };
    match tree {
        syn::UseTree::Path(p) => use_paths(&p.tree, with(p.ident.to_string()), out),
        syn::UseTree::Name(n) if n.ident == "self" => out.push(prefix),
        syn::UseTree::Name(n) => out.push(with(n.ident.to_string())),
        syn::UseTree::Rename(r) => out.push(with(r.ident.to_string())),
        syn::UseTree::Glob(_) => out.push(prefix),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_paths(t, prefix.clone(), out);
            }
        }
    }
}

/// Every multi-segment path in a module's code (not inside its child modules).
#[derive(Default)]
struct References {
    paths: Vec<Vec<String>>,
}

impl<'ast> Visit<'ast> for References {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() > 1 {
            self.paths
                .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        syn::visit::visit_path(self, path);
    }
    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {}
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        use_paths(&u.tree, Vec::new(), &mut self.paths);
    }
}

/// Groups of files that reach each other (Tarjan's strongly connected components).
fn cycles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, (usize, usize)>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a PathBuf) {
            let n = self.index.len();
            self.index.insert(v, (n, n));
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in &self.edges[v] {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.index[w].1.min(self.index[v].1);
                    self.index.get_mut(v).unwrap().1 = low;
                } else if self.on_stack.contains(w) {
                    let low = self.index[w].0.min(self.index[v].1);
                    self.index.get_mut(v).unwrap().1 = low;
                }
            }
            if self.index[v].0 == self.index[v].1 {
                let mut group = Vec::new();
                loop {
                    let w = self.stack.pop().unwrap();
                    self.on_stack.remove(w);
                    group.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut t = Tarjan {
        edges,
        index: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.found
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Fails with every cycle among the files of the crate rooted at `root`.
fn assert_acyclic(root: &str) {
    let root = workspace().join(root);
    let krate = Crate::load(&root);
    let found = cycles(&krate.edges());
    let shown: Vec<String> = found
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|f| f.strip_prefix(workspace()).unwrap().display().to_string())
                .collect::<Vec<_>>()
                .join(" ⇄ ")
        })
        .collect();
    assert!(
        found.is_empty(),
        "import circles in {}:\n{}",
        root.display(),
        shown.join("\n")
    );
}

#[test]
fn the_check_finds_a_circle_and_its_absence() {
    let dir = std::env::temp_dir().join(format!("module-cycles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write("lib.rs", "mod a;\nmod b;\nmod c;\n");
    write("a.rs", "use crate::b::B;\npub struct A;\n");
    write(
        "b.rs",
        "pub struct B;\npub fn f() { let _ = super::c::C; }\n",
    );
    write(
        "c.rs",
        "pub struct C;\nfn g() -> crate::a::A { crate::a::A }\n#[cfg(test)]\nmod tests { use super::*; }\n",
    );
    let krate = Crate::load(&dir.join("lib.rs"));
    let found = cycles(&krate.edges());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].len(), 3);
    // Without c's reference back to a, the chain a → b → c is no circle.
    write(
        "c.rs",
        "pub struct C;\n#[cfg(test)]\nmod tests { use super::*; }\n",
    );
    let krate = Crate::load(&dir.join("lib.rs"));
    assert!(cycles(&krate.edges()).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn domain_has_no_import_circles() {
    assert_acyclic("domain/src/lib.rs");
}

#[test]
fn commands_has_no_import_circles() {
    assert_acyclic("commands/src/lib.rs");
}

#[test]
fn projections_has_no_import_circles() {
    assert_acyclic("projections/src/lib.rs");
}

#[test]
fn gateway_has_no_import_circles() {
    assert_acyclic("gateway/src/lib.rs");
}

#[test]
fn replay_tools_have_no_import_circles() {
    assert_acyclic("replay-tools/src/lib.rs");
}

#[test]
fn the_end_to_end_support_has_no_import_circles() {
    assert_acyclic("tests/src/lib.rs");
}
