//! UltraMarket's write side.
//!
//! # Layout
//!
//! - [`accounts`]: the account use cases (register, create a user, the bootstrap admin,
//!   profile, role, suspension, addresses, e-mail verification and password reset), each
//!   owning its uniqueness claim and compensation.
//! - [`store`]: the `EventStore` port (append with an expected version, read a stream,
//!   read and subscribe to `$all`) and its adapters: PostgreSQL (the default) and
//!   EventStoreDB (feature `esdb`, selected by `EVENTSTORE_URL`).
//!
//! - [`handler`]: the generic command handler: a task per busy stream that decides queued
//!   commands in a batch and appends them with one optimistic append, a `moka` cache of
//!   recent states, deterministic event ids and the metadata every event carries.
//! - [`handlers`]: [`Handlers`](handlers::Handlers), one command handler per aggregate over
//!   one store: the context every use case takes.
//! - [`cart`]: the cart's use cases: add, change and remove lines, apply a coupon,
//!   check out into an order (releasing the coupon's redemption when the order cannot be
//!   placed), merge a guest's cart.
//! - [`catalog`]: the catalog's use cases: categories and products with their SKU and
//!   slug claims, changes under the vendor-ownership rule.
//! - [`inventory`]: staff's stock use cases: receiving, adjusting, low-stock thresholds,
//!   transfers between warehouses; creating and deactivating warehouses.
//! - [`checkout`]: the checkout saga, the process manager from a placed order to reserved
//!   stock, payment, shipment, cancellation and expiry.
//! - [`orders`]: the orders' use cases: place, pay, cancel, change status, refund; each
//!   takes the [`Handlers`](handlers::Handlers), typed input and the command's metadata
//!   and answers a typed error.
//! - [`payment`]: the `PaymentProvider` port with the built-in `test` provider, paying an
//!   order, and HMAC-signed webhooks.
//! - [`accounts`]: the accounts use cases; [`email_tokens`](accounts::email_tokens), the
//!   HMAC tokens of verification and reset links, which the gateway opens and the notifier
//!   (`projections::notifications`) signs its links with.
//! - [`database`]: what every floor shares of PostgreSQL: the migrations and pool
//!   options.
//! - [`lease`]: one runner of each process manager at a time across processes, by a
//!   PostgreSQL session advisory lock that a standby takes over when its holder's session
//!   ends.
//! - [`privacy`]: crypto-shredding (issue 20, ADR 0005): the data keys of data subjects,
//!   wrapped by the master key, and the envelope personal fields are sealed in.
//! - [`unique`]: set uniqueness (e-mail, SKU, slug, coupon code) by a stream per key
//!   appended with "no stream" expected.
//! - [`coupons`]: staff's coupon use cases (create with the code claimed, change the
//!   terms, deactivate, reactivate), a coupon by its code, and lines as a coupon's scope
//!   sees them.
//! - [`tax`]: the store's tax table (rates by country and region, prices with or without
//!   tax), read whole from the write side (ADR 0006).
//! - [`pricing`]: staff's price rules (create, change, enable, disable) and the
//!   scheduler's tick that records a rule's activation and expiry (ADR 0008).
//! - [`prices`]: the port the cart and checkout price lines through; the gateway fills it
//!   with its live rules (list prices without).
//! - [`search`]: a gateway records the searches it answered, counted per query, per
//!   interval (ADR 0007).
//! - [`shop`], [`configuration`], [`navigation`] (issue 22): the store's settings, its
//!   typed configuration keys and its menus, each read whole from the write side; a menu's
//!   links to categories and products are checked against the catalog when it is set.
//! - [`pc_builder`] (issue 24): PC builds: create one, set its parts (each checked against
//!   the catalog: on sale, a part of its slot), share it by a link, and put it in the cart
//!   whole or not at all.
//! - [`shipping`] (issue 22): shipments of an order's lines (created against what the
//!   order has left, labelled by a carrier), their steps, the order and the stock following
//!   them, and the carriers behind the `Carrier` port with the built-in `test` carrier
//!   and their signed tracking webhooks; the store's shipping zones, methods and rates,
//!   and what an order's shipping costs.
//! - [`vendors`] (issue 23): applying for a store with its slug claimed, staff's
//!   approval (the owner becomes a vendor member), rejection, suspension and
//!   reinstatement, and the store's terms (commission, trusted). [`reviews`]: a buyer's
//!   review of a product they received (the proof found in the order's events, one review
//!   per product and buyer by a uniqueness claim), edits, helpful votes, moderation and
//!   the vendor's reply.
//! - [`ledger`] (issue 23 item 4): each store's double-entry ledger: sales recorded at
//!   payment with their commission, refunds and clawbacks, payouts through the
//!   `PayoutProvider` port (with a `test` provider), staff's adjustments.
//! - [`returns`] (issue 22): an order's returns, asked by its customer within the window
//!   and approved, received (restocked) and refunded by staff through the payment
//!   provider.
//! - [`time_travel`]: an aggregate's state as of a version or a time, folded from its
//!   stream (chosen by category), and a state's `Debug` text read as JSON; `umctl state`
//!   and `diff` and the console's state and stepper pages show it.
//! - [`webhook`]: the HMAC signature and time window of every signed webhook (payment
//!   providers' and carriers').
//!
//! # Data flow
//!
//! A command arrives from the gateway, its aggregate's stream is loaded from the store, the
//! pure `decide` of `domain` answers with events, and those are appended with the version
//! the stream was loaded at. Everything else in the engine (NATS, read models, the audit
//! trail) is derived from the store's `$all` order.

pub mod accounts;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod configuration;
pub mod coupons;
pub mod database;
pub mod handler;
pub mod handlers;
pub mod inventory;
pub mod lease;
pub mod ledger;
pub mod navigation;
pub mod orders;
pub mod payment;
pub mod pc_builder;
pub mod prices;
pub mod pricing;
pub mod privacy;
pub mod returns;
pub mod reviews;
pub mod search;
pub mod shipping;
pub mod shop;
pub mod store;
pub mod tax;
pub mod time_travel;
pub mod unique;
pub mod vendors;
pub mod webhook;
