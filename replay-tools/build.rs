//! Embeds the event schemas (`schemas/events/<category>/<Type>.v<N>.json`) into `umctl`, so
//! `umctl verify` works from any directory, with no checkout of the repository around.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/events");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    for category in std::fs::read_dir(&root).expect("schemas/events") {
        let category = category.expect("a schemas/events entry").path();
        if !category.is_dir() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", category.display());
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
            println!("cargo:rerun-if-changed={}", path.display());
            let path = path.canonicalize().expect("a schema path");
            files.push((name.to_owned(), version, path));
        }
    }
    // Sorted, so the generated file (and the binary) does not depend on directory order.
    files.sort();
    let mut out = String::from(
        "/// Every event schema of the repository at build time: (type, version, JSON).\n\
         pub static EVENT_SCHEMAS: &[(&str, u32, &str)] = &[\n",
    );
    for (name, version, path) in files {
        writeln!(
            out,
            "    ({name:?}, {version}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("event_schemas.rs");
    std::fs::write(dest, out).unwrap();
}
