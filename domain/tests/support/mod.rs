//! Strategies and builders shared by the property tests.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::id::{OrderId, ProductId, UserId};
use domain::inventory::InventoryCommand;
use domain::money::{Currency, Money};
use domain::order::{CancellationReason, ChangedBy, OrderCommand, OrderLine, PlaceOrder};
use domain::payment::{ChargeOutcome, PaymentCommand};
use domain::value::{Address, Sku};
use proptest::prelude::*;
use uuid::Uuid;

pub fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

pub fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::USD)
}

pub fn orders() -> Vec<OrderId> {
    (0..6)
        .map(|i| OrderId::new(Uuid::from_u128(i + 1)))
        .collect()
}

pub fn inventory_command() -> impl Strategy<Value = InventoryCommand> {
    let sku = Sku::parse("SKU-P").unwrap();
    let order = (0usize..6).prop_map(|i| orders()[i]);
    let warehouse = prop_oneof![Just("main".to_owned()), Just("east".to_owned())];
    prop_oneof![
        (0u32..20, warehouse.clone()).prop_map({
            let sku = sku.clone();
            move |(q, w)| InventoryCommand::ReceiveStock {
                sku: sku.clone(),
                warehouse: w,
                quantity: q,
            }
        }),
        (-15i64..15, warehouse.clone()).prop_map({
            let sku = sku.clone();
            move |(d, w)| InventoryCommand::AdjustStock {
                sku: sku.clone(),
                warehouse: w,
                delta: d,
                reason: "count".into(),
            }
        }),
        (order.clone(), 0u32..12).prop_map({
            let sku = sku.clone();
            move |(o, q)| InventoryCommand::ReserveStock {
                sku: sku.clone(),
                order_id: o,
                quantity: q,
            }
        }),
        order
            .clone()
            .prop_map(|o| InventoryCommand::ReleaseReservation { order_id: o }),
        order
            .clone()
            .prop_map(|o| InventoryCommand::CommitReservation { order_id: o }),
        // Part of a cancelled line (issue 22).
        (order.clone(), 0u32..6).prop_map(|(o, q)| InventoryCommand::ReleaseUnits {
            order_id: o,
            quantity: q,
        }),
        // A shipment's part of a reservation (issue 22): a few shipment ids, so repeats
        // of one shipment are generated too and must commit nothing twice.
        (order.clone(), 0u128..3, 0u32..8, warehouse.clone()).prop_map(|(o, sh, q, w)| {
            InventoryCommand::CommitShipped {
                order_id: o,
                shipment_id: domain::id::ShipmentId::new(Uuid::from_u128(sh + 500)),
                quantity: q,
                warehouse: w,
            }
        }),
        (order, 0u32..5, warehouse).prop_map(|(o, q, w)| InventoryCommand::Restock {
            order_id: o,
            quantity: q,
            warehouse: w
        }),
        (0u32..15).prop_map(|t| InventoryCommand::SetLowStockThreshold { threshold: t }),
        (0u32..12, 0usize..2, 0usize..2).prop_map({
            let sku = sku.clone();
            move |(q, from, to)| InventoryCommand::TransferStock {
                sku: sku.clone(),
                from: ["main", "east"][from].to_owned(),
                to: ["main", "east"][to].to_owned(),
                quantity: q,
            }
        }),
    ]
}

pub fn line(i: u8, quantity: u32, price: i64) -> OrderLine {
    OrderLine {
        product_id: ProductId::new(Uuid::from_u128(u128::from(i) + 100)),
        variant_id: None,
        sku: Sku::parse(&format!("SKU-{i}")).unwrap(),
        quantity,
        unit_price: usd(price),
        price_rules: Vec::new(),
        vendor_id: None,
    }
}

pub fn address() -> Address {
    serde_json::from_value(serde_json::json!({
        "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"
    }))
    .unwrap()
}

pub fn place(lines: Vec<OrderLine>, discount: i64, tax_bp: u32, shipping: i64) -> OrderCommand {
    OrderCommand::Place(Box::new(PlaceOrder {
        order_id: OrderId::new(Uuid::from_u128(7)),
        user_id: UserId::new(Uuid::from_u128(8)),
        lines,
        shipping_address: address(),
        billing_address: None,
        payment_method: "card".into(),
        notes: None,
        coupon_code: None,
        discount: usd(discount),
        discount_over: None,
        tax: domain::order::TaxTerms {
            rate_ppm: tax_bp * 100,
            inclusive: false,
        },
        shipping: usd(shipping),
        shipping_method: None,
        at: at(),
    }))
}

pub fn order_command() -> impl Strategy<Value = OrderCommand> {
    let by = || ChangedBy {
        user_id: None,
        role: "staff".into(),
    };
    let reason = prop_oneof![
        Just(CancellationReason::OutOfStock),
        Just(CancellationReason::PaymentFailed),
        Just(CancellationReason::Expired),
        Just(CancellationReason::Customer),
        Just(CancellationReason::Staff),
    ];
    prop_oneof![
        Just(place(
            vec![line(1, 2, 1000), line(2, 1, 550)],
            100,
            825,
            499
        )),
        Just(OrderCommand::MarkStockReserved { at: at() }),
        Just(OrderCommand::RecordPaymentFailed {
            code: "card_declined".into(),
            message: "no".into(),
            at: at()
        }),
        // The right total or a wrong one: 2*1000 + 550 - 100 = 2450, the discount shared
        // 78 + 22; tax per line at 8.25%: 1922 → 158.565 → 159, 528 → 43.56 → 44; shipping
        // 499: 2450 + 203 + 499.
        prop_oneof![Just(3152i64), Just(100i64)].prop_map(|a| OrderCommand::MarkPaid {
            amount: usd(a),
            payment_reference: "ch_1".into(),
            at: at()
        }),
        Just(OrderCommand::Ship {
            tracking_number: Some("1Z".into()),
            note: None,
            by: by(),
            at: at()
        }),
        Just(OrderCommand::Deliver {
            note: None,
            by: by(),
            at: at()
        }),
        reason.prop_map(move |r| OrderCommand::Cancel {
            reason: r,
            note: None,
            by: ChangedBy {
                user_id: None,
                role: "staff".into()
            },
            at: at()
        }),
        proptest::option::of(0i64..2000).prop_map(|a| OrderCommand::Refund {
            amount: a.map(usd),
            reason: "return".into(),
            by: ChangedBy {
                user_id: None,
                role: "staff".into()
            },
            at: at()
        }),
        // Shipments (issue 22): two ids, lines that fit the order or exceed it.
        (0u128..2, 1u32..3, any::<bool>()).prop_map(|(n, q, both)| {
            let mut lines = vec![domain::order::ShippedLine {
                sku: Sku::parse("SKU-1").unwrap(),
                quantity: q,
            }];
            if both {
                lines.push(domain::order::ShippedLine {
                    sku: Sku::parse("SKU-2").unwrap(),
                    quantity: 1,
                });
            }
            OrderCommand::AllocateShipment {
                shipment_id: domain::id::ShipmentId::new(Uuid::from_u128(n + 500)),
                lines,
                at: at(),
            }
        }),
        (0u128..2).prop_map(move |n| OrderCommand::ShipLines {
            shipment_id: domain::id::ShipmentId::new(Uuid::from_u128(n + 500)),
            tracking_number: Some("TEST1".into()),
            by: by(),
            at: at()
        }),
        (0u128..2).prop_map(|n| OrderCommand::RecordShipmentDelivered {
            shipment_id: domain::id::ShipmentId::new(Uuid::from_u128(n + 500)),
            by: ChangedBy {
                user_id: None,
                role: "carrier:test".into()
            },
            at: at()
        }),
    ]
}

/// Charges (captured or declined) and refunds of one order's payment.
pub fn payment_command() -> impl Strategy<Value = PaymentCommand> {
    let order_id = OrderId::new(Uuid::from_u128(9));
    prop_oneof![
        (1i64..50_000, any::<bool>(), 1u32..4).prop_map(move |(amount, ok, attempt)| {
            PaymentCommand::Charge {
                order_id,
                attempt,
                amount: usd(amount),
                method: "card".into(),
                provider: "test".into(),
                outcome: if ok {
                    ChargeOutcome::Captured {
                        reference: "ch_1".into(),
                    }
                } else {
                    ChargeOutcome::Declined {
                        code: "card_declined".into(),
                        message: "no".into(),
                    }
                },
                at: at(),
            }
        }),
        (1i64..30_000).prop_map(|a| PaymentCommand::Refund {
            amount: usd(a),
            reason: "r".into(),
            at: at()
        }),
    ]
}

use domain::cart::{CartCommand, CartLine};
use domain::catalog::{CategoryCommand, CreateProduct, Image, ProductCommand, Variant};
use domain::coupon::{CouponCommand, CouponDiscount, CouponLine, CouponScope, CouponTerms};
use domain::id::{
    AddressId, CartId, CartItemId, CategoryId, CouponId, CredentialId, ImageId, VariantId,
};
use domain::notification::NotificationCommand;
use domain::user::{Role, TokenId, UserCommand};
use domain::value::{Email, Quantity, Slug};

fn uuid(i: u128) -> Uuid {
    Uuid::from_u128(i)
}

pub fn user_command() -> impl Strategy<Value = UserCommand> {
    prop_oneof![3 => account_command(), 1 => user_token_command()]
}

/// Verification and reset tokens: issued, reissued too soon, spent, reused, expired.
pub fn user_token_command() -> impl Strategy<Value = UserCommand> {
    let token = (0u128..2).prop_map(|i| TokenId::new(uuid(60 + i)));
    prop_oneof![
        (token.clone(), 0i64..3).prop_map(|(token_id, m)| {
            UserCommand::RequestEmailVerification {
                token_id,
                expires_at: at() + Duration::hours(1),
                at: at() + Duration::minutes(m * 2),
            }
        }),
        (token.clone(), 0i64..3).prop_map(|(token_id, m)| UserCommand::RequestPasswordReset {
            token_id,
            expires_at: at() + Duration::hours(1),
            at: at() + Duration::minutes(m * 2),
        }),
        (token.clone(), 0i64..90).prop_map(|(token_id, m)| UserCommand::ConfirmEmail {
            token_id,
            at: at() + Duration::minutes(m),
        }),
        (token, 0i64..90).prop_map(|(token_id, m)| UserCommand::ResetPassword {
            token_id,
            credential: CredentialId::new(uuid(90)),
            at: at() + Duration::minutes(m),
        }),
    ]
}

/// Claims, deliveries and failures of one notification, at moments around its leases.
pub fn notification_command() -> impl Strategy<Value = NotificationCommand> {
    prop_oneof![
        (0i64..600).prop_map(|s| NotificationCommand::StartDelivery {
            max_attempts: 3,
            lease_until: at() + Duration::seconds(s + 120),
            at: at() + Duration::seconds(s),
        }),
        (1u32..4).prop_map(|attempt| NotificationCommand::RecordSent { attempt, at: at() }),
        (1u32..4, prop::option::of(0i64..600)).prop_map(|(attempt, retry)| {
            NotificationCommand::RecordFailure {
                attempt,
                error: "connection refused".into(),
                retry_at: retry.map(|s| at() + Duration::seconds(s)),
                at: at(),
            }
        }),
        (0i64..600).prop_map(|s| NotificationCommand::Retry {
            at: at() + Duration::seconds(s),
        }),
    ]
}

fn account_command() -> impl Strategy<Value = UserCommand> {
    let addr = (0u128..3).prop_map(|i| AddressId::new(uuid(40 + i)));
    prop_oneof![
        Just(UserCommand::Register {
            user_id: UserId::new(uuid(1)),
            email: Email::parse("ann@example.com").unwrap(),
            credential: CredentialId::new(uuid(91)),
            first_name: Some("Ann".into()),
            last_name: None,
            role: Role::Customer,
            at: at(),
        }),
        Just(UserCommand::VerifyEmail { at: at() }),
        Just(UserCommand::ChangePassword {
            credential: CredentialId::new(uuid(92)),
            reset: true,
            at: at()
        }),
        Just(UserCommand::UpdateProfile {
            first_name: Some("Anna".into()),
            last_name: Some("Lee".into()),
            at: at()
        }),
        addr.clone().prop_map(|a| UserCommand::AddAddress {
            address_id: a,
            label: Some("home".into()),
            address: address()
        }),
        addr.clone().prop_map(|a| UserCommand::UpdateAddress {
            address_id: a,
            label: None,
            address: address()
        }),
        addr.prop_map(|a| UserCommand::RemoveAddress { address_id: a }),
        prop_oneof![Just(Role::Staff), Just(Role::Customer), Just(Role::Vendor)]
            .prop_map(|role| UserCommand::ChangeRole { role }),
        Just(UserCommand::Suspend {
            reason: "fraud review".into(),
            at: at()
        }),
        Just(UserCommand::Reactivate { at: at() }),
        Just(UserCommand::SignOutEverywhere { at: at() }),
        any::<(bool, bool)>().prop_map(|(m, a)| UserCommand::SetPreferences {
            preferences: domain::user::Preferences {
                marketing_email: m,
                analytics_tracking: a,
                ..Default::default()
            },
            source: domain::user::ConsentSource::User,
            at: at(),
        }),
        Just(UserCommand::Erase {
            by: domain::user::ErasedBy::Admin,
            at: at()
        }),
    ]
}

pub fn category_command() -> impl Strategy<Value = CategoryCommand> {
    prop_oneof![
        Just(CategoryCommand::Create {
            category_id: CategoryId::new(uuid(50)),
            name: "Shoes".into(),
            slug: Slug::parse("shoes").unwrap(),
            parent_id: None,
        }),
        prop_oneof![Just("Boots"), Just("Shoes")]
            .prop_map(|n| CategoryCommand::Rename { name: n.into() }),
        (0u128..3).prop_map(|i| CategoryCommand::Move {
            parent_id: (i > 0).then(|| CategoryId::new(uuid(50 + i))),
            ancestors: (1..=i)
                .rev()
                .map(|a| CategoryId::new(uuid(50 + a)))
                .collect(),
        }),
        prop_oneof![Just("boots"), Just("shoes")].prop_map(|s| CategoryCommand::ChangeSlug {
            slug: Slug::parse(s).unwrap()
        }),
    ]
}

pub fn product_command() -> impl Strategy<Value = ProductCommand> {
    let image = (0u128..3).prop_map(|i| ImageId::new(uuid(60 + i)));
    prop_oneof![
        any::<bool>().prop_map(|publish| ProductCommand::Create(Box::new(CreateProduct {
            product_id: ProductId::new(uuid(70)),
            sku: Sku::parse("SHOE-1").unwrap(),
            name: "Red shoe".into(),
            slug: Slug::parse("red-shoe").unwrap(),
            description: Some("A shoe.".into()),
            category_id: CategoryId::new(uuid(50)),
            price: usd(4999),
            attributes: serde_json::Map::new(),
            vendor_id: None,
            publish,
            seo: Default::default(),
            at: at(),
        }))),
        Just(ProductCommand::Update {
            name: Some("Blue shoe".into()),
            description: None,
            category_id: None,
            attributes: None,
            at: at()
        }),
        (1i64..9_999).prop_map(|p| ProductCommand::ChangePrice {
            price: usd(p),
            at: at()
        }),
        Just(ProductCommand::Publish { at: at() }),
        Just(ProductCommand::Archive { at: at() }),
        (0u128..3).prop_map(|i| ProductCommand::AddVariant(Variant {
            variant_id: VariantId::new(uuid(80 + i)),
            sku: Sku::parse(&format!("SHOE-1-{i}")).unwrap(),
            name: format!("size {}", 40 + i),
            price: usd(4999),
            attributes: serde_json::Map::new(),
        })),
        image
            .clone()
            .prop_map(|image_id| ProductCommand::AddImage(Image {
                image_id,
                url: "https://img.example.com/1.jpg".into(),
                alt: None,
                position: 0
            })),
        image.prop_map(|image_id| ProductCommand::RemoveImage { image_id }),
        Just(ProductCommand::SubmitForReview { at: at() }),
        Just(ProductCommand::RejectSubmission {
            reason: "The photos are missing.".into(),
            at: at()
        }),
        Just(ProductCommand::Unpublish { at: at() }),
        (0u128..3, 1i64..9_999).prop_map(|(i, p)| ProductCommand::UpdateVariant {
            variant_id: VariantId::new(uuid(80 + i)),
            name: Some(format!("size {}", 50 + i)),
            price: Some(usd(p)),
            attributes: None,
            at: at(),
        }),
        (0u128..3).prop_map(|i| ProductCommand::RemoveVariant {
            variant_id: VariantId::new(uuid(80 + i)),
            at: at(),
        }),
        prop_oneof![Just("red-shoe"), Just("crimson-shoe")].prop_map(|s| {
            ProductCommand::ChangeSlug {
                slug: Slug::parse(s).unwrap(),
                at: at(),
            }
        }),
        prop_oneof![Just(""), Just("Red shoes for running")].prop_map(|t| {
            ProductCommand::ChangeSeo {
                meta_title: Some(t.into()),
                meta_description: None,
                at: at(),
            }
        }),
    ]
}

pub fn cart_command() -> impl Strategy<Value = CartCommand> {
    let item = (0u128..3).prop_map(|i| CartItemId::new(uuid(90 + i)));
    let line = (0u128..3, 1u32..5).prop_map(|(i, q)| CartLine {
        item_id: CartItemId::new(uuid(90 + i)),
        product_id: ProductId::new(uuid(100 + i)),
        variant_id: None,
        sku: Sku::parse(&format!("SKU-{i}")).unwrap(),
        quantity: Quantity::new(q).unwrap(),
        unit_price: usd(1000),
    });
    prop_oneof![
        line.clone()
            .prop_map(|line| CartCommand::AddItem { line, at: at() }),
        (item.clone(), 1u32..9).prop_map(|(item_id, q)| CartCommand::UpdateItem {
            item_id,
            quantity: Quantity::new(q).unwrap()
        }),
        item.clone()
            .prop_map(|item_id| CartCommand::RemoveItem { item_id }),
        Just(CartCommand::ApplyCoupon {
            code: "save10".into()
        }),
        Just(CartCommand::RemoveCoupon),
        Just(CartCommand::CheckOut {
            order_id: OrderId::new(uuid(7)),
            at: at()
        }),
        Just(CartCommand::Expire { at: at() }),
        (0u128..2, prop::collection::vec(line.clone(), 1..3)).prop_map(|(g, lines)| {
            CartCommand::MergeGuestCart {
                guest_cart_id: CartId::new(uuid(110 + g)),
                lines,
            }
        }),
        // Saved for later, sharing, copying and the expiry of an idle cart.
        item.clone()
            .prop_map(|item_id| CartCommand::SaveForLater { item_id }),
        item.clone()
            .prop_map(|item_id| CartCommand::MoveToCart { item_id }),
        item.clone()
            .prop_map(|item_id| CartCommand::RemoveSaved { item_id }),
        (0u8..2).prop_map(|n| CartCommand::Share {
            token_hash: format!("{n}").repeat(64),
            at: at()
        }),
        Just(CartCommand::RevokeShare),
        prop::collection::vec(line, 1..3).prop_map(|lines| CartCommand::CopyLines {
            source_cart_id: CartId::new(uuid(115)),
            lines
        }),
        (0u64..12).prop_map(|seen_changes| CartCommand::ExpireIdle {
            at: at(),
            seen_changes
        }),
    ]
}

pub fn coupon_command() -> impl Strategy<Value = CouponCommand> {
    let customer = (0u128..3).prop_map(|i| UserId::new(uuid(120 + i)));
    let order = (0usize..6).prop_map(|i| orders()[i]);
    prop_oneof![
        any::<bool>().prop_map(|percent| CouponCommand::Create {
            coupon_id: CouponId::new(uuid(130)),
            terms: CouponTerms {
                code: "SAVE10".into(),
                discount: if percent {
                    CouponDiscount::Percent { basis_points: 1000 }
                } else {
                    CouponDiscount::Fixed { amount: usd(500) }
                },
                valid_from: None,
                valid_until: None,
                max_uses: Some(4),
                max_uses_per_customer: Some(2),
                min_order: Some(usd(1000)),
                scope: Default::default(),
            },
        }),
        (customer, order.clone(), 0i64..5000).prop_map(|(customer, order_id, s)| {
            CouponCommand::Redeem {
                customer,
                order_id,
                lines: vec![CouponLine {
                    product_id: ProductId::new(uuid(131)),
                    category_id: None,
                    subtotal: usd(s),
                }],
                at: at(),
            }
        }),
        order.prop_map(|order_id| CouponCommand::ReleaseRedemption { order_id }),
        Just(CouponCommand::Deactivate),
        // New terms: a scope naming the redeemed product, or one naming another only.
        any::<bool>().prop_map(|covered| CouponCommand::Update {
            terms: CouponTerms {
                code: "SAVE10".into(),
                discount: CouponDiscount::Fixed { amount: usd(300) },
                valid_from: None,
                valid_until: None,
                max_uses: Some(3),
                max_uses_per_customer: None,
                min_order: None,
                scope: CouponScope {
                    product_ids: vec![ProductId::new(uuid(if covered { 131 } else { 132 }))],
                    category_ids: vec![CategoryId::new(uuid(133))],
                },
            },
        }),
        Just(CouponCommand::Reactivate),
    ]
}

pub fn tax_command() -> impl Strategy<Value = domain::tax::TaxCommand> {
    use domain::tax::{TaxCommand, TaxZone};
    let zone = prop_oneof![
        Just(("US", None)),
        Just(("US", Some("NY"))),
        Just(("DE", None)),
    ]
    .prop_map(|(country, region): (&str, Option<&str>)| TaxZone {
        country: country.into(),
        region: region.map(Into::into),
    });
    prop_oneof![
        (zone.clone(), 0u32..=250_000).prop_map(|(zone, rate_ppm)| TaxCommand::SetRate {
            zone,
            rate_ppm,
            name: "sales tax".into(),
        }),
        zone.prop_map(|zone| TaxCommand::RemoveRate { zone }),
        any::<bool>().prop_map(|include| TaxCommand::SetPricesIncludeTax { include }),
    ]
}
