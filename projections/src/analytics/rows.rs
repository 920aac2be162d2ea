//! The tables as a batch holds them in memory: [`Rows`] of the tables the read model keeps
//! as its memory of other aggregates (written back with their final values), and [`Sums`]
//! of the daily aggregates (added to the table as increments).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;

/// Rows of one table as the batch found and left them: those it read, those it created,
/// and which of them changed (written back in key order).
pub(super) struct Rows<K, R> {
    rows: HashMap<K, R>,
    changed: BTreeSet<K>,
}

impl<K: Ord + std::hash::Hash + Clone, R> Default for Rows<K, R> {
    fn default() -> Self {
        Rows {
            rows: HashMap::new(),
            changed: BTreeSet::new(),
        }
    }
}

impl<K: Ord + std::hash::Hash + Clone, R> Rows<K, R> {
    pub(super) fn loaded(&mut self, key: K, row: R) {
        self.rows.insert(key, row);
    }

    pub(super) fn get(&self, key: &K) -> Option<&R> {
        self.rows.get(key)
    }

    /// The row to change, if the table has it.
    pub(super) fn edit(&mut self, key: &K) -> Option<&mut R> {
        let row = self.rows.get_mut(key)?;
        self.changed.insert(key.clone());
        Some(row)
    }

    /// Sets the row, whether or not the table had one.
    pub(super) fn put(&mut self, key: K, row: R) {
        self.changed.insert(key.clone());
        self.rows.insert(key, row);
    }

    /// The row to change, created by `new` if the table lacks it.
    pub(super) fn upsert(&mut self, key: K, new: impl FnOnce() -> R) -> &mut R {
        self.changed.insert(key.clone());
        self.rows.entry(key).or_insert_with(new)
    }

    pub(super) fn changed(&self) -> Vec<(&K, &R)> {
        self.changed.iter().map(|k| (k, &self.rows[k])).collect()
    }
}

/// Increments of a daily aggregate, summed per key and added to the table in one upsert;
/// counters in the order of the table's columns (the `COL` constants).
pub(super) struct Sums<K, const N: usize>(BTreeMap<K, [i64; N]>);

impl<K: Ord, const N: usize> Default for Sums<K, N> {
    fn default() -> Self {
        Sums(BTreeMap::new())
    }
}

impl<K: Ord, const N: usize> Sums<K, N> {
    /// The increments of `key`'s row, which the write creates even if they stay zero
    /// (as the row-at-a-time upsert did).
    pub(super) fn at(&mut self, key: K) -> &mut [i64; N] {
        self.0.entry(key).or_insert([0; N])
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.keys()
    }

    /// Binds the counters, column by column, as `int8[]`.
    pub(super) fn bind_counters<'q>(
        &self,
        mut query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        for i in 0..N {
            query = query.bind(self.0.values().map(|c| c[i]).collect::<Vec<i64>>());
        }
        query
    }
}

/// Column indexes of the counters of each daily aggregate.
pub(super) mod col {
    // daily_sales
    pub const PLACED: usize = 0;
    pub const PLACED_VALUE: usize = 1;
    pub const PAID: usize = 2;
    pub const UNITS_SOLD: usize = 3;
    pub const GROSS_REVENUE: usize = 4;
    pub const CANCELLED: usize = 5;
    pub const REFUNDS: usize = 6;
    pub const REFUNDED_AMOUNT: usize = 7;
    pub const PAYMENT_FAILURES: usize = 8;
    // daily_category_sales, daily_product_sales
    pub const LINE_PAID: usize = 0;
    pub const LINE_UNITS: usize = 1;
    pub const LINE_REVENUE: usize = 2;
    pub const LINE_REFUNDED_UNITS: usize = 3;
    pub const LINE_REFUNDED_REVENUE: usize = 4;
    // funnel_daily
    pub const CARTS_STARTED: usize = 0;
    pub const CARTS_CHECKED_OUT: usize = 1;
    pub const CARTS_EXPIRED: usize = 2;
    pub const ORDERS_PLACED: usize = 3;
    pub const ORDERS_PAID: usize = 4;
    pub const ORDERS_CANCELLED: usize = 5;
    // cancellations
    pub const ORDERS: usize = 0;
    pub const VALUE: usize = 1;
    pub const PAID_ORDERS: usize = 2;
    // stock_daily
    pub const RECEIVED: usize = 0;
    pub const ADJUSTED: usize = 1;
    pub const RESERVED: usize = 2;
    pub const RELEASED: usize = 3;
    pub const SOLD: usize = 4;
    pub const RESTOCKED: usize = 5;
}
