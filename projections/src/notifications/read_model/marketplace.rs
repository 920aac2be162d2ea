//! The marketplace's e-mails (issue 23 item 7): a customer whose whole order arrived is
//! invited to review it, and a vendor hears of each new review of its products. A store's
//! id is its owner's account (ADR 0010), so the vendor's address is that account's.

use commands::store::RecordedEvent;
use domain::notification::Template;
use domain::reviews::ReviewEvent;
use serde_json::json;
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
}
