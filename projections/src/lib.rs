//! UltraMarket's read side: the relay to NATS, and the read models built from the event
//! store's `$all`.
//!
//! # Layout
//!
//! - [`relay`]: tails `$all` from a checkpoint and publishes each event to JetStream.
//! - [`wire`]: the message format on NATS, which the relay writes and the workers read
//!   (`<prefix>.<category>.<EventType>`, `Nats-Msg-Id` = event id, the previous event's
//!   position in a header).
//! - [`runtime`]: the [`Projection`] trait ([`runtime::projection`]), schema management
//!   ([`runtime::schema`]), one batch and its checkpoint in one PostgreSQL transaction
//!   (effectively-once, invariant 5, poison events parked in `projections.parked`), and
//!   the [`Runner`] that applies events from a checkpoint ([`runtime::runner`]).
//! - [`checkpoint`]: how far each read model has got ([`checkpoint::position`]); runners
//!   announce each move ([`checkpoint::announcements`]), and the gateway's
//!   [`checkpoint::waiter::Waiter`] wakes the waits for consistency tokens on them.
//! - [`jetstream`]: the production feed: one durable pull consumer per projection, which
//!   heals any gap (a lost, purged or reset stream) from the store, since NATS is derived.
//! - [`lease`]: one process at a time runs a read model's runner or a stream's relay; the
//!   others stand by and take over the moment its connection ends.
//! - [`rebuild`]: a read model rebuilt from the store into a shadow schema and swapped in;
//!   and `verify`, a fresh replay compared table by table with the live read model.
//! - [`status`]: lag per projection, in metrics and `projections.status`.
//! - [`retention`]: how long read models keep client addresses, browsers and delivered
//!   messages' content; the audit and notifications models apply it as they write, and its
//!   pass clears the live tables as rows age out.
//! - One module per read model, each in its own schema with its DDL in
//!   `schemas/read-models/<name>.sql`: [`orders`], [`catalog`], [`carts`], [`analytics`],
//!   [`audit`], [`notifications`], [`users`], [`inventory`] (warehouses and stock per
//!   warehouse). The larger ones are split by concern:
//!   `analytics/` into what an event means, the tables in memory, and a batch's load,
//!   fold and write; the `payments` table of `orders`, and the stock movements of
//!   `catalog`, in files of their own. [`notifications`] also holds the notifier, the process
//!   manager that delivers its outbox (SMTP through `lettre`, or the outbox alone).
//!
//! - [`search`]: the search log's read model, top queries and queries that found nothing
//!   (ADR 0007); the catalog keeps the facets and suggestions (`catalog::facets`) and the
//!   `SearchIndex` port (`catalog::search_index`).
//!
//! - [`cart_expiry`]: the process that expires carts idle past their window, through
//!   the cart's use case, reading the `carts` read model.
//! - [`pricing`]: the price rules as they stand (folded with the aggregate's `evolve`);
//!   [`price_schedule`]: the process that records when a rule's window starts and ends.
//! - [`pc_builder`]: the catalog's products as PC parts by slot, with the attributes the
//!   compatibility rules read, and the builds with their parts (issue 24).
//! - [`shipping`] (issue 22): shipments per order and per warehouse, the fulfilment
//!   queue (paid, not fully shipped, oldest first) and carriers' delivery times.
//! - [`vendors`] (issue 23): the stores with their public page's data, status and terms
//!   (no contact or payout details); [`reviews`]: reviews not withdrawn, and each
//!   product's rating folded again from its published reviews, with a vendor's view.
//! - [`ledger`] (issue 23 item 4): each store's entries, postings, totals by kind,
//!   payouts and sold lines with their commission rule; [`ledger_process`]: the process
//!   manager that records a paid order's vendor lines, and refunds of them, in the
//!   stores' ledgers through `commands::ledger`; [`vendor_orders`] (issue 23 item 3):
//!   each order split per store, its lines and how far they have shipped.
//!
//! Files import each other without circles: a module's children import their siblings
//! directly, never through the parent's re-exports.
//!
//! # Data flow
//!
//! With `NATS_URL` set: store → relay → JetStream → one consumer per projection → its
//! tables. Without it (the embedded default), each runner follows the store's own `$all`
//! subscription in process. Either way the gateway answers queries from these tables,
//! waiting for a client's consistency token when it sends one.

use std::sync::Arc;

pub mod analytics;
pub mod audit;
pub mod carts;
pub mod catalog;
pub mod checkpoint;
pub mod jetstream;
pub mod lease;
pub mod ledger;
pub mod ledger_process;
pub mod notifications;
pub mod orders;
pub mod rebuild;
pub mod relay;
pub mod retention;
pub mod returns;
pub mod reviews;
pub mod runtime;
pub mod search;
pub mod shipping;
pub mod status;
pub mod users;
pub mod vendor_orders;
mod vendor_sales;
pub mod vendors;
pub mod wire;

pub mod cart_expiry;
pub mod inventory;
pub mod price_history;
pub mod price_schedule;
pub mod pricing;

pub mod pc_builder;

pub use runtime::{Projection, ProjectionError, Runner};

/// Every read model the engine maintains, in the order they are started, under the
/// retention policy in force ([`retention::set_in_force`]).
pub fn all() -> Vec<Arc<dyn Projection>> {
    let retention = retention::in_force();
    vec![
        Arc::new(orders::OrdersProjection),
        Arc::new(notifications::NotificationsProjection::new(retention)),
        Arc::new(carts::CartsProjection),
        Arc::new(catalog::CatalogProjection),
        Arc::new(analytics::AnalyticsProjection),
        Arc::new(audit::AuditProjection::new(retention)),
        Arc::new(users::UsersProjection),
        Arc::new(inventory::InventoryProjection),
        Arc::new(pricing::PricingProjection),
        Arc::new(price_history::PriceHistoryProjection),
        Arc::new(search::SearchProjection),
        Arc::new(pc_builder::PcBuilderProjection),
        Arc::new(shipping::ShippingProjection),
        Arc::new(vendors::VendorsProjection),
        Arc::new(reviews::ReviewsProjection),
        Arc::new(returns::ReturnsProjection),
        Arc::new(ledger::LedgerProjection),
        Arc::new(vendor_orders::VendorOrdersProjection),
    ]
}

/// The read model called `name`.
pub fn by_name(name: &str) -> Option<Arc<dyn Projection>> {
    all().into_iter().find(|p| p.name() == name)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use sqlx::PgPool;

    const DOC: &str = include_str!("../../schemas/read-models.md");

    /// Where `schemas/read-models.md` defines `table`: a heading that names it (to the next
    /// heading) or a table row whose first cell does (that row).
    fn definition(table: &str) -> Option<String> {
        let name = format!("`{table}`");
        let lines: Vec<&str> = DOC.lines().collect();
        let at = lines.iter().position(|line| {
            let head = if line.starts_with('#') {
                Some(*line)
            } else {
                line.strip_prefix('|').and_then(|l| l.split('|').next())
            };
            head.is_some_and(|head| head.contains(&name))
        })?;
        if !lines[at].starts_with('#') {
            return Some(lines[at].to_owned());
        }
        let end = lines[at + 1..]
            .iter()
            .position(|l| l.starts_with('#'))
            .map_or(lines.len(), |n| at + 1 + n);
        Some(lines[at..end].join("\n"))
    }

    /// Analysts query these tables by hand: every table and view of every read model, and
    /// every column of each, is in `schemas/read-models.md`.
    #[sqlx::test(migrator = "commands::database::MIGRATOR")]
    async fn the_analysts_document_covers_every_table_and_column(pool: PgPool) {
        let mut schemas = vec!["projections".to_owned()];
        for projection in crate::all() {
            crate::runtime::ensure_schema(&pool, &*projection)
                .await
                .unwrap();
            schemas.push(projection.schema().to_owned());
        }
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "select table_schema::text, table_name::text, column_name::text
               from information_schema.columns
              where table_schema = any($1)
              order by table_schema, table_name, ordinal_position",
        )
        .bind(&schemas)
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (schema, table, column) in columns {
            tables
                .entry(format!("{schema}.{table}"))
                .or_default()
                .push(column);
        }
        assert!(tables.len() > 20, "found only {:?}", tables.keys());
        let mut missing = Vec::new();
        for (table, columns) in &tables {
            let Some(text) = definition(table) else {
                missing.push(format!("{table}: no heading or table row names it"));
                continue;
            };
            for column in columns {
                if !text.contains(&format!("`{column}`")) {
                    missing.push(format!("{table}.{column}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "not in schemas/read-models.md:\n{}",
            missing.join("\n")
        );
        // And nothing it names is gone.
        let stale: Vec<&str> = DOC
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|quoted| {
                quoted.split_once('.').is_some_and(|(schema, table)| {
                    schemas.iter().any(|s| s == schema)
                        && !table.is_empty()
                        && table.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                })
            })
            .filter(|table| !tables.contains_key(*table))
            .collect();
        assert!(
            stale.is_empty(),
            "schemas/read-models.md names tables that do not exist: {stale:?}"
        );
    }
}
