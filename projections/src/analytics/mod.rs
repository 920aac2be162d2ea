//! The `analytics` read model: daily sales (overall, per category, per product), the
//! cart → order → payment funnel, cancellations by reason, customers' RFM inputs, stock
//! movements and low-stock alerts. The tables, the views over them and the rules
//! (revenue at payment, refunds on their own day) are described in
//! `schemas/read-models/analytics.sql` and `schemas/read-models.md`.
//!
//! A batch is applied in three steps. The rows its events touch are read first (orders and
//! their lines, carts, stock, customers, products, categories: the projection's own memory
//! of other aggregates); then the events are folded over them in memory, in log order; then
//! every table is written with one statement over arrays: final rows for that memory, and
//! summed increments for the daily aggregates. The writes come last, so the transaction
//! holds a transaction id, which holds back every reader of `$all` until it ends, only for
//! those few statements.
//!
//! Nothing here reads the clock or another read model: a rebuild replays this model alone
//! and must land on the same rows.

//!
//! - `fact`: what each event means here.
//! - `rows`: the tables in memory (`Rows`, `Sums`).
//! - `batch`: the batch's rows and the fold of each fact over them.
//! - `load`: the first step, reading the rows.
//! - `write`: the last step, one statement for every table.
//! - `projection`: [`AnalyticsProjection`], tying the three steps together.

mod batch;
mod fact;
mod load;
mod projection;
mod rows;
mod write;

pub use projection::AnalyticsProjection;
