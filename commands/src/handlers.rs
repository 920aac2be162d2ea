//! [`Handlers`]: the command handler of every aggregate over one store, which the use cases
//! of every concept module take as their context.
//!
//! One handler per aggregate per process matters: each keeps the cache of recent states and
//! the per-stream queue that batches concurrent commands (ADR 0002), so two handlers of
//! one aggregate would race each other's appends and answer conflicts.

use std::sync::Arc;

use crate::handler::CommandHandler;
use crate::privacy::{DataKeys, Sealed};
use crate::store::EventStore;

/// The command handlers of every aggregate, over one store.
pub struct Handlers {
    /// The log every handler appends to, as the command side sees it: personal fields
    /// sealed on append and opened on read ([`Sealed`]). Use cases that append outside an
    /// aggregate (uniqueness claims) use it directly.
    pub store: Arc<dyn EventStore>,
    /// The data subjects' keys the store seals with (ADR 0005).
    pub keys: Arc<DataKeys>,
    pub users: CommandHandler<domain::user::User>,
    pub categories: CommandHandler<domain::catalog::Category>,
    pub products: CommandHandler<domain::catalog::Product>,
    pub inventory: CommandHandler<domain::inventory::Inventory>,
    pub orders: CommandHandler<domain::order::Order>,
    pub payments: CommandHandler<domain::payment::Payment>,
    pub carts: CommandHandler<domain::cart::Cart>,
    pub coupons: CommandHandler<domain::coupon::Coupon>,
    pub sessions: CommandHandler<domain::session::Session>,
    pub warehouses: CommandHandler<domain::inventory::Warehouse>,
    pub tax: CommandHandler<domain::tax::TaxTable>,
    pub price_rules: CommandHandler<domain::pricing::PriceRule>,
    pub search: CommandHandler<domain::search::SearchLog>,
    pub shop: CommandHandler<domain::shop::Shop>,
    pub configuration: CommandHandler<domain::configuration::Configuration>,
    pub navigation: CommandHandler<domain::navigation::Menu>,
    /// Where the cart and checkout get their prices (the live price rules).
    pub prices: crate::prices::Prices,
    pub pc_builds: CommandHandler<domain::pc_builder::PcBuild>,
    pub shipments: CommandHandler<domain::shipping::Shipment>,
    pub vendors: CommandHandler<domain::vendors::Vendor>,
    pub reviews: CommandHandler<domain::reviews::Review>,
    pub shipping_rates: CommandHandler<domain::shipping::ShippingRates>,
    pub returns: CommandHandler<domain::returns::OrderReturns>,
    pub ledgers: CommandHandler<domain::ledger::VendorLedger>,
    /// Staff's retries of given-up deliveries; the notification worker claims and records
    /// attempts through a handler of its own, and the store's version check orders the two.
    pub notifications: CommandHandler<domain::notification::Notification>,
}

impl Handlers {
    /// Handlers over `log`, sealing personal data with `keys`, each caching up to `cache`
    /// recent states.
    pub fn new(log: &Arc<dyn EventStore>, keys: Arc<DataKeys>, cache: u64) -> Arc<Self> {
        let store: Arc<dyn EventStore> = Arc::new(Sealed::new(log.clone(), keys.clone()));
        Arc::new(Handlers {
            store: store.clone(),
            keys,
            users: CommandHandler::new(store.clone(), cache),
            categories: CommandHandler::new(store.clone(), cache),
            products: CommandHandler::new(store.clone(), cache),
            inventory: CommandHandler::new(store.clone(), cache),
            orders: CommandHandler::new(store.clone(), cache),
            payments: CommandHandler::new(store.clone(), cache),
            carts: CommandHandler::new(store.clone(), cache),
            coupons: CommandHandler::new(store.clone(), cache),
            sessions: CommandHandler::new(store.clone(), cache),
            warehouses: CommandHandler::new(store.clone(), cache),
            tax: CommandHandler::new(store.clone(), cache),
            price_rules: CommandHandler::new(store.clone(), cache),
            search: CommandHandler::new(store.clone(), cache),
            shop: CommandHandler::new(store.clone(), cache),
            configuration: CommandHandler::new(store.clone(), cache),
            navigation: CommandHandler::new(store.clone(), cache),
            prices: crate::prices::Prices::default(),
            pc_builds: CommandHandler::new(store.clone(), cache),
            shipments: CommandHandler::new(store.clone(), cache),
            vendors: CommandHandler::new(store.clone(), cache),
            reviews: CommandHandler::new(store.clone(), cache),
            shipping_rates: CommandHandler::new(store.clone(), cache),
            returns: CommandHandler::new(store.clone(), cache),
            ledgers: CommandHandler::new(store.clone(), cache),
            notifications: CommandHandler::new(store.clone(), cache),
        })
    }
}

impl Handlers {
    /// The pricer for `customer` now (see [`crate::prices`]).
    pub async fn pricer(
        &self,
        customer: Option<uuid::Uuid>,
    ) -> Result<Arc<dyn crate::prices::Pricer>, String> {
        self.prices.pricer(customer).await
    }
}
