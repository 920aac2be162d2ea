//! Pricing (issue 24, ADR 0008): staff's price rules, the live rule set every reader of a
//! price uses ([`book::RuleBook`]), and a product's price explained rule by rule.
//!
//! - [`routes`]: `/pricing/rules` and `/products/{id}/price`.
//! - [`book`]: the live rules in memory, indexed by scope.
//! - [`current`]: `AppState::current_rules` and `serve_prices`.
//! - [`history`]: the lowest price of the 30 days before a promotion on product answers
//!   (the query is `projections::price_history::lowest_30_days`).
//! - [`items`]: a product as the engine prices it, from the catalog read model.
//! - [`list`]: the rules page, for the API and the console.
//! - [`segments`]: the customer segments a signed-in customer is priced for.
//! - [`views`]: bodies and answers.

pub mod book;
pub mod current;
pub mod history;
pub mod items;
pub mod list;
pub mod routes;
pub mod segments;
pub mod views;

pub use routes::{router, PricingApi};
