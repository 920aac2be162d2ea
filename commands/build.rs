// `sqlx::migrate!` embeds schemas/migrations at compile time; without this, a new migration
// file does not rebuild the crate and the binary ships the old set (sqlx's documented fix).
fn main() {
    println!("cargo:rerun-if-changed=../schemas/migrations");
}
