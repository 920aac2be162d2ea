//! The `notifications` read model: the outbox that the [`Notifier`](super::notifier::Notifier)
//! delivers, and the one query it needs, [`due`].
//!
//! A row is derived from the event that causes a message (a verification or reset request,
//! a placed or shipped order, a low-stock alert, one row per staff member), its recipient
//! from the model's own copy of registrations, and its delivery state from the
//! `notification-<id>` stream the worker writes. Everything comes from events, so a rebuild
//! gives the same rows, sent ones included. Subjects are rendered here, from the template and
//! the payload; bodies at send time, since their links carry a signed token and no secret is
//! stored: the payload names only `token_id`.
//!
//! A message sent, or given up, longer ago than the [`Retention`] policy's outbox window
//! is written without its payload, recipient and last error (the row stays, to show that
//! it went out), so a rebuild brings back no more than `crate::retention::pass` left.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::catalog::ProductEvent;
use domain::inventory::InventoryEvent;
use domain::ledger::LedgerEvent;
use domain::notification::{NotificationEvent, NotificationId, Template};
use domain::order::OrderEvent;
use domain::returns::ReturnsEvent;
use domain::reviews::ReviewEvent;
use domain::shipping::ShipmentEvent;
use domain::user::{erased_email, Role, UserEvent};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::delivery::Delivery;
use super::stores::{Stores, Wanted};
use crate::retention::Retention;
use crate::runtime::{column, decode, Projection, ProjectionError};

/// The `notifications` read model, keeping delivered messages' content as long as its
/// policy says.
#[derive(Debug, Default, Clone, Copy)]
pub struct NotificationsProjection {
    retention: Retention,
}

impl NotificationsProjection {
    pub fn new(retention: Retention) -> Self {
        NotificationsProjection { retention }
    }
}

/// An outbox row as the notifier reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub notification_id: Uuid,
    pub recipient: String,
    pub template: String,
    pub subject: String,
    pub payload: Value,
}

/// Up to `limit` pending rows whose next attempt is due, oldest first. A row another
/// worker holds shows as due again once its lease lapses; the claim on the notification's
/// stream, not this query, decides who sends it.
pub async fn due(pool: &PgPool, limit: i64) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query_as(
        "select notification_id, recipient, template, subject, payload
           from notifications.notifications
          where status = 'pending' and coalesce(next_attempt_at, created_at) <= now()
            and payload is not null
          order by created_at limit $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Who receives low-stock alerts.
const STAFF_ROLES: [Role; 2] = [Role::Staff, Role::Admin];

/// A registered user as this model knows them.
#[derive(Clone)]
struct Recipient {
    email: String,
    first_name: Option<String>,
    role: String,
}

/// A notification the batch creates.
struct Outgoing {
    id: Uuid,
    source_event_id: Uuid,
    recipient: String,
    user_id: Uuid,
    template: Template,
    subject: String,
    payload: Value,
    created_at: DateTime<Utc>,
}

/// An event this model acts on, decoded.
enum Step<'a> {
    User(&'a RecordedEvent, Uuid, UserEvent),
    Order(&'a RecordedEvent, Uuid, Box<OrderEvent>),
    LowStock(&'a RecordedEvent, InventoryEvent),
    Delivery(Uuid, NotificationEvent),
    /// A shipment's creation, steps and tracking updates, by shipment id.
    Shipment(&'a RecordedEvent, Uuid, Box<ShipmentEvent>),
    /// An order's return approved or refunded, by order id.
    Return(&'a RecordedEvent, Uuid, ReturnsEvent),
    /// A review written (`marketplace`).
    Review(&'a RecordedEvent, ReviewEvent),
    /// A product created, or a variant added or removed, by product id: its SKUs' store.
    Product(Uuid, Box<ProductEvent>),
    /// A store's payout asked for, paid or failed, by store id.
    Ledger(&'a RecordedEvent, Uuid, Box<LedgerEvent>),
}

impl<'a> Step<'a> {
    fn of(event: &'a RecordedEvent) -> Result<Option<Self>, ProjectionError> {
        let id = event.stream_uuid();
        Ok(match (event.category(), event.event_type.as_str(), id) {
            ("user", _, Some(id)) => Some(Step::User(event, id, decode(event)?)),
            (
                "order",
                "OrderPlaced" | "OrderPaid" | "OrderShipped" | "OrderDelivered",
                Some(id),
            ) => Some(Step::Order(event, id, Box::new(decode(event)?))),
            ("inventory", "LowStockDetected", _) => Some(Step::LowStock(event, decode(event)?)),
            ("notification", _, Some(id)) => Some(Step::Delivery(id, decode(event)?)),
            ("shipment", _, Some(id)) => Some(Step::Shipment(event, id, Box::new(decode(event)?))),
            ("returns", "ReturnApproved" | "ReturnRefunded", Some(id)) => {
                Some(Step::Return(event, id, decode(event)?))
            }
            ("review", "ReviewWritten", _) => Some(Step::Review(event, decode(event)?)),
            ("product", "ProductCreated" | "VariantAdded" | "VariantRemoved", Some(id)) => {
                Some(Step::Product(id, Box::new(decode(event)?)))
            }
            (
                "vendor_ledger",
                "VendorPayoutRequested" | "VendorPayoutPaid" | "VendorPayoutFailed",
                Some(id),
            ) => Some(Step::Ledger(event, id, Box::new(decode(event)?))),
            _ => None,
        })
    }
}

/// An order's owner (when `order_id` is set) or a recipient by id: order, user, e-mail,
/// first name, role; the last three are null for a user this model never saw register.
type PersonRow = (
    Option<Uuid>,
    Uuid,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A batch folded in memory: what it reads first, then what it writes.
#[derive(Default)]
struct Batch {
    /// Everyone the batch may address, as of the point of the log the fold has reached.
    recipients: HashMap<Uuid, Recipient>,
    recipients_changed: BTreeSet<Uuid>,
    owners: HashMap<Uuid, Uuid>,
    new_owners: Vec<(Uuid, Uuid)>,
    /// Delivery state of the notifications the batch creates or reports on.
    deliveries: HashMap<Uuid, Delivery>,
    /// Existing notifications whose delivery state the batch changes.
    delivered: BTreeSet<Uuid>,
    outgoing: Vec<Outgoing>,
    created: HashSet<Uuid>,
    /// People erased in the batch: what the outbox holds for them goes.
    erased: Vec<Uuid>,
    /// Shipments' orders, customers and tracking numbers, and those the batch creates.
    shipments: HashMap<Uuid, Parcel>,
    new_shipments: Vec<(Uuid, Parcel)>,
    /// What addresses the marketplace's stores.
    stores: Stores,
    /// The policy that decides whether a retry came too late (`Delivery::fold`).
    retention: Retention,
}

/// What the model keeps of a shipment to write its e-mails (`fulfilment`).
#[derive(Debug, Clone)]
struct Parcel {
    order_id: Uuid,
    user_id: Uuid,
    tracking_number: String,
}

mod fulfilment;
mod marketplace;

impl Batch {
    /// Reads the rows `steps` depend on: the recipients they name, the staff when stock
    /// runs low, the owners of shipped orders, and the notifications reported on.
    async fn load(tx: &mut PgConnection, steps: &[Step<'_>]) -> Result<Self, sqlx::Error> {
        let mut users = Vec::new();
        let mut orders = Vec::new();
        let mut notifications = Vec::new();
        let mut shipments = Vec::new();
        let mut staff = false;
        let mut wanted = Wanted::default();
        for step in steps {
            match step {
                Step::User(_, id, _) => users.push(*id),
                Step::Order(_, id, e) => match &**e {
                    OrderEvent::OrderPlaced { user_id, lines, .. } => {
                        users.push(user_id.as_uuid());
                        users.extend(
                            lines
                                .iter()
                                .filter_map(|l| l.vendor_id.map(|v| v.as_uuid())),
                        );
                    }
                    OrderEvent::OrderPaid { .. } => wanted.orders.push(*id),
                    _ => orders.push(*id),
                },
                Step::LowStock(_, e) => {
                    staff = true;
                    if let InventoryEvent::LowStockDetected { sku, .. } = e {
                        wanted.skus.push(sku.as_str().to_owned());
                    }
                }
                Step::Product(id, e) => match &**e {
                    ProductEvent::ProductCreated { vendor_id, .. } => {
                        users.extend(vendor_id.map(|v| v.as_uuid()));
                    }
                    _ => wanted.products.push(*id),
                },
                Step::Ledger(_, vendor, e) => {
                    users.push(*vendor);
                    if let LedgerEvent::VendorPayoutPaid { payout_id, .. }
                    | LedgerEvent::VendorPayoutFailed { payout_id, .. } = &**e
                    {
                        wanted.payouts.push(payout_id.as_uuid());
                    }
                }
                Step::Delivery(id, _) => notifications.push(*id),
                Step::Shipment(_, id, e) => match &**e {
                    ShipmentEvent::ShipmentCreated { user_id, .. } => users.push(user_id.as_uuid()),
                    _ => shipments.push(*id),
                },
                Step::Return(_, order_id, _) => orders.push(*order_id),
                Step::Review(_, ReviewEvent::ReviewWritten { vendor_id, .. }) => {
                    users.extend(vendor_id.map(|v| v.as_uuid()));
                }
                Step::Review(..) => {}
            }
        }
        let mut batch = Batch::default();
        batch.load_shipments(tx, &shipments).await?;
        let (stores, vendors) = Stores::load(tx, &wanted).await?;
        batch.stores = stores;
        users.extend(vendors);
        users.extend(batch.shipments.values().map(|p| p.user_id));
        if !users.is_empty() || !orders.is_empty() || staff {
            let roles: Vec<&str> = STAFF_ROLES.iter().map(Role::as_str).collect();
            let rows: Vec<PersonRow> = sqlx::query_as(
                "select null::uuid, user_id, email, first_name, role from recipients
                      where user_id = any($1) or ($3 and role = any($4))
                     union all
                     select o.order_id, o.user_id, r.email, r.first_name, r.role
                       from order_recipients o left join recipients r using (user_id)
                      where o.order_id = any($2)",
            )
            .bind(&users)
            .bind(&orders)
            .bind(staff)
            .bind(&roles)
            .fetch_all(&mut *tx)
            .await?;
            for (order_id, user_id, email, first_name, role) in rows {
                if let Some(order_id) = order_id {
                    batch.owners.insert(order_id, user_id);
                }
                if let (Some(email), Some(role)) = (email, role) {
                    let r = Recipient {
                        email,
                        first_name,
                        role,
                    };
                    batch.recipients.insert(user_id, r);
                }
            }
        }
        if !notifications.is_empty() {
            let rows: Vec<Delivery> = sqlx::query_as(
                "select notification_id, status, attempts, last_error, next_attempt_at, sent_at,
                        updated_at
                   from notifications where notification_id = any($1)",
            )
            .bind(&notifications)
            .fetch_all(&mut *tx)
            .await?;
            batch.deliveries = rows.into_iter().map(|d| (d.notification_id, d)).collect();
        }
        Ok(batch)
    }

    fn fold(&mut self, step: Step<'_>) {
        match step {
            Step::User(event, user_id, e) => self.user(event, user_id, e),
            Step::Order(event, order_id, e) => self.order(event, order_id, *e),
            Step::LowStock(event, e) => self.low_stock(event, e),
            Step::Shipment(event, id, e) => self.shipment(event, id, *e),
            Step::Return(event, order_id, e) => self.order_return(event, order_id, e),
            Step::Review(event, e) => self.new_review(event, e),
            Step::Product(id, e) => self.product(id, *e),
            Step::Ledger(event, vendor, e) => self.payout(event, vendor, *e),
            Step::Delivery(id, e) => {
                if let Some(d) = self.deliveries.get_mut(&id) {
                    d.fold(&e, self.retention);
                    // A row this batch creates is written with its state; others updated.
                    if !self.created.contains(&id) {
                        self.delivered.insert(id);
                    }
                }
            }
        }
    }

    fn user(&mut self, event: &RecordedEvent, user_id: Uuid, e: UserEvent) {
        match e {
            UserEvent::UserRegistered {
                email,
                first_name,
                role,
                ..
            } => {
                if let Entry::Vacant(v) = self.recipients.entry(user_id) {
                    v.insert(Recipient {
                        email: email.as_str().to_owned(),
                        first_name,
                        role: role.as_str().to_owned(),
                    });
                    self.recipients_changed.insert(user_id);
                }
            }
            UserEvent::ProfileUpdated { first_name, .. } => {
                if let Some(r) = self.recipients.get_mut(&user_id) {
                    r.first_name = first_name;
                    self.recipients_changed.insert(user_id);
                }
            }
            UserEvent::UserErased { .. } => {
                if let Some(r) = self.recipients.get_mut(&user_id) {
                    r.email = erased_email().as_str().to_owned();
                    r.first_name = None;
                    self.recipients_changed.insert(user_id);
                }
                self.erased.push(user_id);
            }
            UserEvent::RoleChanged { to, .. } => {
                if let Some(r) = self.recipients.get_mut(&user_id) {
                    r.role = to.as_str().to_owned();
                    self.recipients_changed.insert(user_id);
                }
            }
            UserEvent::EmailVerificationRequested {
                token_id,
                expires_at,
                ..
            } => {
                let payload = json!({ "token_id": token_id, "expires_at": expires_at });
                self.notify_user(event, user_id, Template::VerifyEmail, payload);
            }
            UserEvent::PasswordResetRequested {
                token_id,
                expires_at,
                ..
            } => {
                let payload = json!({ "token_id": token_id, "expires_at": expires_at });
                self.notify_user(event, user_id, Template::PasswordReset, payload);
            }
            _ => {}
        }
    }

    fn order(&mut self, event: &RecordedEvent, order_id: Uuid, e: OrderEvent) {
        match e {
            OrderEvent::OrderPlaced {
                user_id,
                lines,
                totals,
                ..
            } => {
                let user_id = user_id.as_uuid();
                if let Entry::Vacant(v) = self.owners.entry(order_id) {
                    v.insert(user_id);
                    self.new_owners.push((order_id, user_id));
                }
                self.order_placed(order_id, &lines);
                let payload = json!({
                    "order_id": order_id,
                    "lines": column(&lines, |l| json!({ "sku": l.sku, "quantity": l.quantity, "unit_price": l.unit_price, })),
                    "total": totals.total,
                });
                self.notify_user(event, user_id, Template::OrderConfirmation, payload);
            }
            OrderEvent::OrderShipped {
                tracking_number, ..
            } => {
                if let Some(&user_id) = self.owners.get(&order_id) {
                    let payload =
                        json!({ "order_id": order_id, "tracking_number": tracking_number });
                    self.notify_user(event, user_id, Template::OrderShipped, payload);
                }
            }
            OrderEvent::OrderDelivered { .. } => self.review_invitation(event, order_id),
            OrderEvent::OrderPaid { .. } => self.order_paid(event, order_id),
            _ => {}
        }
    }

    fn low_stock(&mut self, event: &RecordedEvent, e: InventoryEvent) {
        let InventoryEvent::LowStockDetected {
            sku,
            available,
            threshold,
        } = e
        else {
            return;
        };
        // In user order, so a rebuild creates the same rows in the same order.
        let mut staff: Vec<(Uuid, Recipient)> = self
            .recipients
            .iter()
            .filter(|(_, r)| STAFF_ROLES.iter().any(|s| s.as_str() == r.role))
            .map(|(id, r)| (*id, r.clone()))
            .collect();
        staff.sort_by_key(|(id, _)| *id);
        for (user_id, r) in staff {
            let payload = json!({
                "sku": sku, "available": available, "threshold": threshold,
                "user_id": user_id, "first_name": r.first_name,
            });
            self.queue(
                event,
                &user_id.to_string(),
                r.email,
                user_id,
                Template::LowStock,
                payload,
            );
        }
        let payload = json!({ "sku": sku, "available": available, "threshold": threshold });
        self.store_low_stock(event, sku.as_str(), payload);
    }

    fn notify_user(
        &mut self,
        event: &RecordedEvent,
        user_id: Uuid,
        template: Template,
        payload: Value,
    ) {
        self.notify_keyed(event, user_id, "", template, payload);
    }

    /// The message `event` causes for `user_id`; `key` tells apart the messages one event
    /// causes for several people.
    fn notify_keyed(
        &mut self,
        event: &RecordedEvent,
        user_id: Uuid,
        key: &str,
        template: Template,
        mut payload: Value,
    ) {
        // An order placed for an account this model never saw register has nobody to
        // tell, nor has one of an erased person.
        let Some(r) = self
            .recipients
            .get(&user_id)
            .filter(|r| r.email != erased_email().as_str())
        else {
            return;
        };
        payload["user_id"] = json!(user_id);
        payload["first_name"] = json!(r.first_name);
        let email = r.email.clone();
        self.queue(event, key, email, user_id, template, payload);
    }

    fn queue(
        &mut self,
        event: &RecordedEvent,
        recipient_key: &str,
        recipient: String,
        user_id: Uuid,
        template: Template,
        payload: Value,
    ) {
        let id = NotificationId::derive(event.id, recipient_key).as_uuid();
        // Already there: the row stands as it is, as `on conflict do nothing` keeps it.
        if let Entry::Vacant(v) = self.deliveries.entry(id) {
            v.insert(Delivery {
                notification_id: id,
                status: "pending".into(),
                attempts: 0,
                last_error: None,
                next_attempt_at: None,
                sent_at: None,
                updated_at: event.recorded_at,
            });
            self.created.insert(id);
            self.outgoing.push(Outgoing {
                id,
                source_event_id: event.id,
                recipient,
                user_id,
                template,
                subject: template.subject(&payload),
                payload,
                created_at: event.recorded_at,
            });
        }
    }

    async fn write(
        self,
        tx: &mut PgConnection,
        retention: Retention,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        // Finished (sent or given up) longer ago than the window: written without content.
        let expired = |d: &Delivery| {
            d.status != "pending" && !retention.keeps_outbox_content(d.updated_at, now)
        };
        if !self.recipients_changed.is_empty() {
            let changed: Vec<(&Uuid, &Recipient)> = self
                .recipients_changed
                .iter()
                .map(|id| (id, &self.recipients[id]))
                .collect();
            sqlx::query(
                "insert into recipients (user_id, email, first_name, role)
                 select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
                 on conflict (user_id) do update set email = excluded.email,
                     first_name = excluded.first_name, role = excluded.role",
            )
            .bind(column(&changed, |(id, _)| **id))
            .bind(column(&changed, |(_, r)| r.email.clone()))
            .bind(column(&changed, |(_, r)| r.first_name.clone()))
            .bind(column(&changed, |(_, r)| r.role.clone()))
            .execute(&mut *tx)
            .await?;
        }
        if !self.new_owners.is_empty() {
            sqlx::query(
                "insert into order_recipients (order_id, user_id)
                 select * from unnest($1::uuid[], $2::uuid[])
                 on conflict (order_id) do nothing",
            )
            .bind(column(&self.new_owners, |o| o.0))
            .bind(column(&self.new_owners, |o| o.1))
            .execute(&mut *tx)
            .await?;
        }
        self.write_shipments(tx).await?;
        self.stores.write(tx).await?;
        if !self.outgoing.is_empty() {
            let out = &self.outgoing;
            let state = |o: &Outgoing| &self.deliveries[&o.id];
            sqlx::query(
                "insert into notifications (notification_id, source_event_id, channel, recipient,
                     user_id, template, subject, payload, status, attempts, last_error,
                     next_attempt_at, created_at, sent_at, updated_at)
                 select n.id, n.source, 'email', n.recipient, n.user_id, n.template, n.subject,
                        n.payload, n.status, n.attempts, n.last_error, n.next_attempt_at,
                        n.created_at, n.sent_at, n.updated_at
                   from unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[],
                               $6::text[], $7::jsonb[], $8::text[], $9::int4[], $10::text[],
                               $11::timestamptz[], $12::timestamptz[], $13::timestamptz[],
                               $14::timestamptz[])
                        as n(id, source, recipient, user_id, template, subject, payload, status,
                             attempts, last_error, next_attempt_at, created_at, sent_at,
                             updated_at)
                 on conflict (notification_id) do nothing",
            )
            .bind(column(out, |o| o.id))
            .bind(column(out, |o| o.source_event_id))
            .bind(column(out, |o| {
                (!expired(state(o))).then(|| o.recipient.clone())
            }))
            .bind(column(out, |o| o.user_id))
            .bind(column(out, |o| o.template.as_str()))
            .bind(column(out, |o| o.subject.clone()))
            .bind(column(out, |o| {
                (!expired(state(o))).then(|| o.payload.clone())
            }))
            .bind(column(out, |o| state(o).status.clone()))
            .bind(column(out, |o| state(o).attempts))
            .bind(column(out, |o| {
                state(o).last_error.clone().filter(|_| !expired(state(o)))
            }))
            .bind(column(out, |o| state(o).next_attempt_at))
            .bind(column(out, |o| o.created_at))
            .bind(column(out, |o| state(o).sent_at))
            .bind(column(out, |o| state(o).updated_at))
            .execute(&mut *tx)
            .await?;
        }
        if !self.delivered.is_empty() {
            let d: Vec<&Delivery> = self
                .delivered
                .iter()
                .map(|id| &self.deliveries[id])
                .collect();
            sqlx::query(
                "update notifications n set status = d.status, attempts = d.attempts,
                     last_error = case when d.expired then null else d.last_error end,
                     next_attempt_at = d.next_attempt_at, sent_at = d.sent_at,
                     updated_at = d.updated_at,
                     recipient = case when d.expired then null else n.recipient end,
                     payload = case when d.expired then null else n.payload end
                   from unnest($1::uuid[], $2::text[], $3::int4[], $4::text[],
                               $5::timestamptz[], $6::timestamptz[], $7::timestamptz[],
                               $8::bool[])
                        as d(id, status, attempts, last_error, next_attempt_at, sent_at,
                             updated_at, expired)
                  where n.notification_id = d.id",
            )
            .bind(column(&d, |d| d.notification_id))
            .bind(column(&d, |d| d.status.clone()))
            .bind(column(&d, |d| d.attempts))
            .bind(column(&d, |d| d.last_error.clone()))
            .bind(column(&d, |d| d.next_attempt_at))
            .bind(column(&d, |d| d.sent_at))
            .bind(column(&d, |d| d.updated_at))
            .bind(column(&d, |d| expired(d)))
            .execute(&mut *tx)
            .await?;
        }
        if !self.erased.is_empty() {
            // Last, so nothing above writes their data back. What was not sent yet never
            // will be: there is nobody to send it to.
            sqlx::query(
                "update notifications set recipient = $2,
                        payload = jsonb_build_object('user_id', user_id),
                        status = case when status = 'pending' then 'failed' else status end,
                        last_error = case when status = 'pending' then $3 else last_error end,
                        next_attempt_at = null
                  where user_id = any($1)",
            )
            .bind(&self.erased)
            .bind(erased_email().as_str())
            .bind("the recipient was erased")
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Projection for NotificationsProjection {
    fn name(&self) -> &'static str {
        "notifications"
    }

    fn schema(&self) -> &'static str {
        "notifications"
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        matches!(
            (event.category(), event.event_type.as_str()),
            ("user" | "notification", _)
                | (
                    "order",
                    "OrderPlaced" | "OrderPaid" | "OrderShipped" | "OrderDelivered"
                )
                | (
                    "product",
                    "ProductCreated" | "VariantAdded" | "VariantRemoved"
                )
                | (
                    "vendor_ledger",
                    "VendorPayoutRequested" | "VendorPayoutPaid" | "VendorPayoutFailed"
                )
                | ("review", "ReviewWritten")
                | ("shipment", _)
                | ("returns", "ReturnApproved" | "ReturnRefunded")
                | ("inventory", "LowStockDetected")
        )
    }

    fn tables(&self) -> &'static str {
        include_str!("../../../schemas/read-models/notifications.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_batch(tx, &[event]).await
    }

    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[&RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let mut steps = Vec::with_capacity(events.len());
        for event in events {
            steps.extend(Step::of(event)?);
        }
        if steps.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::load(tx, &steps).await?;
        batch.retention = self.retention;
        for step in steps {
            batch.fold(step);
        }
        batch.write(tx, self.retention, Utc::now()).await?;
        Ok(())
    }
}
