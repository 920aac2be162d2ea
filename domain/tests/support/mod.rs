//! Strategies and builders shared by the property tests.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
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
        (order, 0u32..5, warehouse).prop_map(|(o, q, w)| InventoryCommand::Restock {
            order_id: o,
            quantity: q,
            warehouse: w
        }),
        (0u32..15).prop_map(|t| InventoryCommand::SetLowStockThreshold { threshold: t }),
    ]
}

pub fn line(i: u8, quantity: u32, price: i64) -> OrderLine {
    OrderLine {
        product_id: ProductId::new(Uuid::from_u128(u128::from(i) + 100)),
        sku: Sku::parse(&format!("SKU-{i}")).unwrap(),
        quantity,
        unit_price: usd(price),
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
        tax_rate_bp: tax_bp,
        shipping: usd(shipping),
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
        // The right total (2*1000 + 550 - 100 = 2450; tax 202; shipping 499) or a wrong one.
        prop_oneof![Just(3151i64), Just(100i64)].prop_map(|a| OrderCommand::MarkPaid {
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
    ]
}

/// Charges (captured or declined) and refunds of one order's payment.
pub fn payment_command() -> impl Strategy<Value = PaymentCommand> {
    let order_id = OrderId::new(Uuid::from_u128(9));
    prop_oneof![
        (1i64..50_000, any::<bool>()).prop_map(move |(amount, ok)| PaymentCommand::Charge {
            order_id,
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
        }),
        (1i64..30_000).prop_map(|a| PaymentCommand::Refund {
            amount: usd(a),
            reason: "r".into(),
            at: at()
        }),
    ]
}
