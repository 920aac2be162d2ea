//! The marketplace's e-mails (issue 23 item 7). A customer whose whole order arrived is
//! invited to review it. A store hears of each new review of its products, of each paid
//! order with its lines (its lines only), of each of its SKUs running low, and of each
//! payout paid or failed. A store's id is its owner's account (ADR 0010), so the store's
//! address is that account's.
//!
//! The events that cause a store's message do not all name the store: an order's payment
//! names no line, a stock alert no product, a payout's settlement no amount.
//! [`Stores`](crate::notifications::stores::Stores) keeps, from earlier events, what
//! answers that.

use std::collections::BTreeMap;

use commands::store::RecordedEvent;
use domain::catalog::ProductEvent;
use domain::ledger::LedgerEvent;
use domain::notification::Template;
use domain::order::PlacedLine;
use domain::reviews::ReviewEvent;
use serde_json::{json, Value};
use uuid::Uuid;

use super::Batch;

impl Batch {
    /// The order's customer, once everything has arrived.
    pub(super) fn review_invitation(&mut self, event: &RecordedEvent, order_id: Uuid) {
        if let Some(&user_id) = self.owners.get(&order_id) {
            let payload = json!({ "order_id": order_id });
            self.notify_user(event, user_id, Template::ReviewInvitation, payload);
        }
    }

    /// The vendor of the reviewed product; the shop's own products have nobody to tell.
    pub(super) fn new_review(&mut self, event: &RecordedEvent, e: ReviewEvent) {
        let ReviewEvent::ReviewWritten {
            review_id,
            product_id,
            vendor_id: Some(vendor),
            rating,
            title,
            ..
        } = e
        else {
            return;
        };
        let payload = json!({
            "review_id": review_id, "product_id": product_id, "rating": rating, "title": title,
        });
        self.notify_user(event, vendor.as_uuid(), Template::NewReview, payload);
    }

    /// An order placed: its stores' lines, kept until it is paid.
    pub(super) fn order_placed(&mut self, order_id: Uuid, lines: &[PlacedLine]) {
        if self.stores.orders.contains_key(&order_id) {
            return;
        }
        let mut by_store: BTreeMap<Uuid, Vec<Value>> = BTreeMap::new();
        for l in lines {
            if let Some(vendor) = l.vendor_id {
                by_store.entry(vendor.as_uuid()).or_default().push(json!({
                    "sku": l.sku, "quantity": l.quantity, "unit_price": l.unit_price,
                }));
            }
        }
        let stores: Vec<(Uuid, Value)> = by_store
            .into_iter()
            .map(|(vendor, lines)| (vendor, Value::Array(lines)))
            .collect();
        for (vendor, lines) in &stores {
            self.stores
                .new_orders
                .push((order_id, *vendor, lines.clone()));
        }
        self.stores.orders.insert(order_id, stores);
    }

    /// An order paid: each of its stores hears of it, with its own lines.
    pub(super) fn order_paid(&mut self, event: &RecordedEvent, order_id: Uuid) {
        let stores = self
            .stores
            .orders
            .get(&order_id)
            .cloned()
            .unwrap_or_default();
        for (vendor, lines) in stores {
            let payload = json!({ "order_id": order_id, "lines": lines });
            self.notify_store(event, vendor, Template::VendorNewOrder, payload);
        }
    }

    /// A product's SKUs, as far as a store sells them.
    pub(super) fn product(&mut self, product_id: Uuid, e: ProductEvent) {
        match e {
            ProductEvent::ProductCreated {
                sku,
                vendor_id: Some(vendor),
                ..
            } => self.stores.sku(
                sku.as_str().to_owned(),
                Some((vendor.as_uuid(), product_id)),
            ),
            ProductEvent::VariantAdded { variant } => {
                if let Some(&vendor) = self.stores.products.get(&product_id) {
                    let to = Some((vendor, product_id));
                    self.stores.sku(variant.sku.as_str().to_owned(), to);
                }
            }
            ProductEvent::VariantRemoved { sku, .. } => {
                let sku = sku.as_str().to_owned();
                let ours =
                    matches!(self.stores.skus.get(&sku), Some(Some((_, p))) if *p == product_id);
                if ours {
                    self.stores.sku(sku, None);
                }
            }
            _ => {}
        }
    }

    /// A store's SKU ran low: the store hears of it, as staff do.
    pub(super) fn store_low_stock(&mut self, event: &RecordedEvent, sku: &str, payload: Value) {
        if let Some(Some((vendor, product_id))) = self.stores.skus.get(sku).copied() {
            let mut payload = payload;
            payload["product_id"] = json!(product_id);
            self.notify_store(event, vendor, Template::LowStock, payload);
        }
    }

    /// A store's payout asked for, then paid or failed.
    pub(super) fn payout(&mut self, event: &RecordedEvent, vendor: Uuid, e: LedgerEvent) {
        match e {
            LedgerEvent::VendorPayoutRequested {
                payout_id, amount, ..
            } => {
                let id = payout_id.as_uuid();
                let amount = json!(amount);
                self.stores.payouts.insert(id, (vendor, amount.clone()));
                self.stores.new_payouts.push((id, vendor, amount));
            }
            LedgerEvent::VendorPayoutPaid {
                payout_id,
                provider_reference,
                ..
            } => {
                let payload = json!({
                    "payout_id": payout_id, "outcome": "paid", "reference": provider_reference,
                    "amount": self.stores.payouts.get(&payout_id.as_uuid()).map(|p| p.1.clone()),
                });
                self.notify_store(event, vendor, Template::VendorPayout, payload);
            }
            LedgerEvent::VendorPayoutFailed {
                payout_id, reason, ..
            } => {
                let payload = json!({
                    "payout_id": payout_id, "outcome": "failed", "reason": reason,
                    "amount": self.stores.payouts.get(&payout_id.as_uuid()).map(|p| p.1.clone()),
                });
                self.notify_store(event, vendor, Template::VendorPayout, payload);
            }
            _ => {}
        }
    }

    /// As `notify_user`, keyed by the store, since one event may tell several stores, and
    /// staff too.
    fn notify_store(
        &mut self,
        event: &RecordedEvent,
        vendor: Uuid,
        template: Template,
        payload: Value,
    ) {
        self.notify_keyed(event, vendor, &format!("store:{vendor}"), template, payload);
    }
}
