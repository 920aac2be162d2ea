//! Placing an order at the catalog's prices now. The checkout saga then reserves the stock
//! and moves the order to `awaiting_payment`, or cancels it as `out_of_stock`.

use domain::id::{OrderId, ProductId, UserId, VariantId, VendorId};
use domain::money::{Currency, Money};
use domain::order::{
    check_line_count, check_notes, check_payment_method, Order, OrderCommand, OrderError,
    OrderLine, PlaceOrder, TaxTerms,
};
use domain::shipping::{Destination, Quote};
use domain::value::{Address, Quantity};
use uuid::Uuid;

use super::caller::{visible_order, Caller, OrderOutcome};
use super::error::OrdersError;
use super::pricing::{add_line, apply_rules, product_on_sale};
use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::pricing::ToPrice;
use crate::shipping::rates::{self, RatesUseError};
use crate::store::{Direction, ReadFrom};

/// One line as the customer asks for it: a product, its variant when it has variants,
/// and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestedItem {
    pub product_id: Uuid,
    pub variant_id: Option<Uuid>,
    pub quantity: u32,
}

/// A coupon redeemed for an order: its code, the discount it earned, and the products
/// whose lines share it (`None`: every line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discount {
    pub code: String,
    pub amount: Money,
    pub over: Option<Vec<ProductId>>,
}

/// How an order to `address` is taxed now, from the tax table.
pub async fn tax_for(
    handlers: &Handlers,
    address: &Address,
) -> Result<TaxTerms, crate::tax::TaxUseError> {
    crate::tax::tax_terms(handlers, address).await
}

/// Where an order goes and how it is paid: what placing an order and checking a cart out
/// both ask of the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub shipping_address: Address,
    pub billing_address: Option<Address>,
    pub payment_method: String,
    pub notes: Option<String>,
    /// The shipping method's code (`standard`); `None`: the cheapest method serving the
    /// address, or free shipping in a store without shipping zones.
    pub shipping_method: Option<String>,
}

impl Delivery {
    /// The payment method, then the notes: the first refusal is the one answered.
    pub fn check(&self) -> Result<(), OrdersError> {
        check_payment_method(&self.payment_method)
            .map_err(|e| OrdersError::input("payment_method", e))?;
        check_notes(self.notes.as_deref()).map_err(|e| OrdersError::input("notes", e))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOrderInput {
    pub items: Vec<RequestedItem>,
    pub delivery: Delivery,
}

/// What shipping `lines` worth `value` to `delivery`'s address costs: the quote of the
/// method it names, else the cheapest method serving the address (`None` in a store
/// without shipping zones: it ships free).
pub async fn shipping_for(
    handlers: &Handlers,
    lines: &[OrderLine],
    value: Money,
    delivery: &Delivery,
) -> Result<Option<Quote>, OrdersError> {
    let rated = |e: RatesUseError| match e {
        RatesUseError::Quote(q) => OrdersError::Shipping(q),
        other => OrdersError::Failed(other.to_string()),
    };
    let weight = rates::weight_of(
        handlers,
        lines
            .iter()
            .map(|l| (l.product_id, l.variant_id, l.quantity))
            .collect(),
    )
    .await
    .map_err(rated)?;
    rates::charge(
        handlers,
        &Destination::from(&delivery.shipping_address),
        weight,
        value,
        delivery.shipping_method.as_deref(),
    )
    .await
    .map_err(rated)
}

/// The order command for `lines` at their prices, with a discount already earned (a
/// redeemed coupon), taxed by `tax` (the shipping address's rate, ADR 0006), shipped by
/// the `shipping` quote (none: free).
#[allow(clippy::too_many_arguments)]
pub fn place_command(
    order_id: Uuid,
    user_id: UserId,
    lines: Vec<OrderLine>,
    delivery: Delivery,
    coupon: Option<Discount>,
    tax: TaxTerms,
    shipping: Option<Quote>,
    meta: &CommandMeta,
) -> OrderCommand {
    let currency = lines
        .first()
        .map_or(Currency::USD, |l| l.unit_price.currency);
    let (coupon_code, discount, discount_over) = match coupon {
        Some(d) => (Some(d.code), d.amount, d.over),
        None => (None, Money::zero(currency), None),
    };
    OrderCommand::Place(Box::new(PlaceOrder {
        order_id: OrderId::new(order_id),
        user_id,
        lines,
        shipping_address: delivery.shipping_address,
        billing_address: delivery.billing_address,
        payment_method: delivery.payment_method,
        notes: delivery.notes,
        coupon_code,
        discount,
        discount_over,
        tax,
        shipping: shipping.as_ref().map_or(Money::zero(currency), |q| q.fee),
        shipping_method: shipping.map(|q| q.method.code),
        at: meta.occurred_at,
    }))
}

/// What an order's lines are worth to the shipping rates: each line's price after its
/// rules, before a coupon (saturating: the order's own bounds refuse a total too large).
pub fn order_value(lines: &[OrderLine]) -> Money {
    let currency = lines
        .first()
        .map_or(Currency::USD, |l| l.unit_price.currency);
    let amount = lines.iter().fold(0i64, |sum, l| {
        let line = l
            .unit_price
            .amount
            .saturating_mul(i64::from(l.quantity))
            .saturating_sub(l.price_off());
        sum.saturating_add(line.max(0))
    });
    Money::new(amount, currency)
}

/// Places an order for `caller` at the products' current prices. The same product twice
/// adds up to one line. Answers the order, `pending`.
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id), err)]
pub async fn place_order(
    handlers: &Handlers,
    caller: &Caller,
    input: PlaceOrderInput,
    meta: CommandMeta,
) -> Result<OrderOutcome, OrdersError> {
    check_line_count(input.items.len()).map_err(|e| OrdersError::input("items", e))?;
    input.delivery.check()?;
    let mut lines: Vec<OrderLine> = Vec::with_capacity(input.items.len());
    let mut to_price: Vec<ToPrice> = Vec::with_capacity(input.items.len());
    let mut subtotal: Option<Money> = None;
    // Each item is checked, then priced, in turn: the first bad item is the one answered.
    for (i, item) in input.items.iter().enumerate() {
        Quantity::new(item.quantity)
            .map_err(|e| OrdersError::invalid(format!("items[{i}].quantity"), e.message))?;
        let product = product_on_sale(handlers, item.product_id)
            .await
            .map_err(|e| OrdersError::Failed(e.to_string()))?
            .ok_or_else(|| {
                OrdersError::invalid(format!("items[{i}].product_id"), "no such product on sale")
            })?;
        let offer = product
            .offer(item.variant_id.map(VariantId::new))
            .map_err(|refusal| OrdersError::Variant {
                field: format!("items[{i}].variant_id"),
                refusal,
            })?;
        // The same product and variant twice is one line; two variants are two.
        let same = |l: &OrderLine| {
            l.product_id == ProductId::new(item.product_id) && l.variant_id == offer.variant_id
        };
        let merged = lines.iter().find(|l| same(l)).map_or(0, |l| l.quantity);
        let running = subtotal.unwrap_or(Money::zero(offer.price.currency));
        // Another currency is the order's rule to refuse, below.
        if running.currency == offer.price.currency {
            // The line's merged quantity has the bound of one line; the running subtotal
            // the bound of the order.
            let quantity = merged.saturating_add(item.quantity);
            let next = add_line(running, offer.price, item.quantity)
                .and_then(|s| add_line(Money::zero(s.currency), offer.price, quantity).map(|_| s))
                .map_err(|(field, message)| {
                    OrdersError::invalid(format!("items[{i}].{field}"), message)
                })?;
            subtotal = Some(next);
        }
        match lines.iter().position(same) {
            Some(i) => {
                lines[i].quantity += item.quantity;
                to_price[i].quantity = lines[i].quantity;
            }
            None => {
                to_price.push(ToPrice::of(&product, &offer, item.quantity));
                lines.push(OrderLine {
                    product_id: product.product_id,
                    variant_id: offer.variant_id,
                    sku: offer.sku,
                    quantity: item.quantity,
                    unit_price: offer.price,
                    price_rules: Vec::new(),
                    // The product's store, whose ledger the line's sale goes to once paid.
                    vendor_id: product.vendor_id.map(VendorId::from),
                });
            }
        }
    }
    let pricer = handlers
        .pricer(Some(caller.user_id))
        .await
        .map_err(OrdersError::Failed)?;
    apply_rules(&*pricer, meta.occurred_at, &mut lines, &to_price)
        .map_err(|e| OrdersError::Failed(e.to_string()))?;
    let tax = tax_for(handlers, &input.delivery.shipping_address)
        .await
        .map_err(|e| OrdersError::Failed(e.to_string()))?;
    let value = order_value(&lines);
    let shipping = shipping_for(handlers, &lines, value, &input.delivery).await?;
    // From the command's id: a command decided again (its first answer lost with its
    // gateway) names the same order, which it finds already placed by itself.
    let order_id = Uuid::new_v5(&meta.command_id, b"order");
    let command = place_command(
        order_id,
        caller.user_id.into(),
        lines,
        input.delivery,
        None,
        tax,
        shipping,
        &meta,
    );
    let stream = CommandHandler::<Order>::stream_id(order_id);
    let first_event = meta.event_id(0);
    let handled = match handlers.orders.handle(&stream, command, meta).await {
        Ok(handled) => handled.position,
        Err(CommandError::Rejected(OrderError::AlreadyPlaced))
            if placed_by(handlers, &stream, first_event)
                .await
                .map_err(OrdersError::Store)? =>
        {
            None
        }
        Err(e) => return Err(e.into()),
    };
    Ok(OrderOutcome {
        order: visible_order(handlers, caller, order_id).await?,
        position: handled,
    })
}

/// Whether `stream` begins with the event `first_event`: the order this very command
/// placed before.
async fn placed_by(
    handlers: &Handlers,
    stream: &str,
    first_event: Uuid,
) -> Result<bool, crate::store::StoreError> {
    let first = handlers
        .store
        .read_stream(stream, ReadFrom::Revision(0), Direction::Forwards, 1)
        .await?;
    Ok(first.first().is_some_and(|e| e.id == first_event))
}
