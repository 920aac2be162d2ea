//! Embeds the event schemas (`schemas/events/<category>/<Type>.v<N>.json`) into `umctl`, so
//! `umctl verify` works from any directory, with no checkout of the repository around.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read at run time, not with `env!`: cargo reuses one build script binary for every
    // checkout that shares a target directory (CI's clones do), and a path baked in at
    // compile time would point at whichever checkout built it first.
    // The rerun paths are relative, which cargo takes from the package root of the checkout
    // being built; an absolute one would watch the checkout that ran the script first.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let relative = Path::new("../schemas/events");
    let root = Path::new(&manifest).join(relative);
    println!("cargo:rerun-if-changed={}", relative.display());
    let mut files = Vec::new();
    for category in std::fs::read_dir(&root).expect("schemas/events") {
        let category = category.expect("a schemas/events entry").path();
        if !category.is_dir() {
            continue;
        }
        let category_name = category.file_name().expect("a folder name").to_owned();
        println!(
            "cargo:rerun-if-changed={}",
            relative.join(&category_name).display()
        );
        for file in std::fs::read_dir(&category).expect("a schema folder") {
            let path = file.expect("a schema file").path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let Some((name, version)) = stem.rsplit_once(".v") else {
                continue;
            };
            let Ok(version) = version.parse::<u32>() else {
                continue;
            };
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let file_name = path.file_name().expect("a file name");
            println!(
                "cargo:rerun-if-changed={}",
                relative.join(&category_name).join(file_name).display()
            );
            let json = std::fs::read_to_string(&path).expect("a readable schema");
            files.push((name.to_owned(), version, json));
        }
    }
    // Sorted, so the generated file (and the binary) does not depend on directory order.
    files.sort();
    let mut out = String::from(
        "/// Every event schema of the repository at build time: (type, version, JSON).\n\
         pub static EVENT_SCHEMAS: &[(&str, u32, &str)] = &[\n",
    );
    // The JSON itself, as a literal: an `include_str!` of an absolute path would tie the
    // crate to the checkout that ran this script.
    for (name, version, json) in files {
        writeln!(out, "    ({name:?}, {version}, {json:?}),").unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("event_schemas.rs");
    std::fs::write(dest, out).unwrap();
}
