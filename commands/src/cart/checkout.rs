//! Checking the cart out: every line priced afresh from the catalog (its variant's price
//! when it names one), taxed at the shipping address's rate, shipped at the quote of the
//! chosen method (else the cheapest serving the address), the coupon redeemed
//! (its limits, window, minimum and scope are checked then; a coupon that would take
//! nothing off is refused, not used), the order placed, the cart emptied.
//!
//! Prices are the price engine's (ADR 0008) with the rules live at the command's time; a
//! unit price that moved since its line was added is refused unless the client accepts
//! it, so no shopper is charged a price they did not see.
//!
//! The order and the coupon are two aggregates, so no one transaction covers both: when
//! the order cannot be placed after the coupon was redeemed, the redemption is released,
//! or the customer would have used up a coupon on an order that does not exist. The
//! checkout saga takes over from the placed order (stock, payment, expiry).

use domain::cart::{Cart, CartCommand, CartError};
use domain::coupon::{Coupon, CouponCommand, CouponError, CouponEvent, CouponLine};
use domain::id::{OrderId, ProductId, VendorId};
use domain::money::Money;
use domain::order::{Order, OrderLine};
use uuid::Uuid;

use super::coupon::coupon_by_code;
use super::error::{CartUseCaseError, PriceChange};
use super::shopper::step;
use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::orders::error::OrdersError;
use crate::orders::place::{place_command, shipping_for, tax_for, Delivery, Discount};
use crate::orders::pricing::{add_line, apply_rules, product_on_sale};
use crate::pricing::ToPrice;
use crate::store::Position;

/// The order a checkout placed, and where the checkout's last event sits in `$all`.
#[derive(Debug, Clone)]
pub struct CheckedOut {
    pub order: domain::order::PlacedOrder,
    pub position: Option<Position>,
}

fn coupon_refused(message: impl ToString) -> CartUseCaseError {
    CartUseCaseError::CouponRefused {
        field: "coupon",
        message: message.to_string(),
    }
}

/// The cart's lines at the catalog's prices now with the price rules live now, their
/// subtotal, the lines as a coupon's scope sees them (with each product's category), and
/// the lines whose unit price moved since they were added.
async fn price_lines(
    handlers: &Handlers,
    cart: &domain::cart::CartState,
    user_id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(Vec<OrderLine>, Money, Vec<CouponLine>, Vec<PriceChange>), CartUseCaseError> {
    let pricer = handlers
        .pricer(Some(user_id))
        .await
        .map_err(CartUseCaseError::Failed)?;
    let mut lines = Vec::with_capacity(cart.lines.len());
    let mut to_price = Vec::with_capacity(cart.lines.len());
    let mut changes = Vec::new();
    let mut categories = Vec::with_capacity(cart.lines.len());
    for (i, l) in cart.lines.values().enumerate() {
        let p = product_on_sale(handlers, l.product_id.as_uuid())
            .await
            .map_err(|e| CartUseCaseError::Failed(e.to_string()))?
            .ok_or_else(|| {
                CartUseCaseError::invalid(
                    format!("items[{i}].product_id"),
                    "no such product on sale",
                )
            })?;
        // The line's variant priced afresh: one the catalog no longer offers is refused,
        // naming the line, and the customer removes it.
        let offer = p
            .offer(l.variant_id)
            .map_err(|refusal| CartUseCaseError::Variant {
                field: format!("items[{i}].variant_id"),
                refusal,
            })?;
        categories.push(p.category_id);
        let priced = ToPrice::of(&p, &offer, l.quantity.get());
        let now = pricer.unit_price(at, &priced);
        if now != l.unit_price {
            changes.push(PriceChange {
                item_id: l.item_id.as_uuid(),
                product_id: p.product_id.as_uuid(),
                variant_id: offer.variant_id.map(|v| v.as_uuid()),
                was: l.unit_price,
                now,
            });
        }
        to_price.push(priced);
        lines.push(OrderLine {
            product_id: ProductId::new(p.product_id.as_uuid()),
            variant_id: offer.variant_id,
            sku: offer.sku,
            quantity: l.quantity.get(),
            unit_price: offer.price,
            price_rules: Vec::new(),
            // The product's store, whose ledger the line's sale goes to once paid.
            vendor_id: p.vendor_id.map(VendorId::from),
        });
    }
    let currency = lines[0].unit_price.currency;
    if lines.iter().any(|l| l.unit_price.currency != currency) {
        return Err(CartUseCaseError::Rejected(CartError::MixedCurrencies));
    }
    apply_rules(&*pricer, at, &mut lines, &to_price)
        .map_err(|e| CartUseCaseError::Failed(e.to_string()))?;
    // The catalog's prices may have risen since the lines were added: the bounds are
    // checked again, naming the line that crosses them.
    let mut subtotal = Money::zero(currency);
    let mut coupon_lines = Vec::with_capacity(lines.len());
    for (i, (l, category_id)) in lines.iter().zip(categories).enumerate() {
        // The bounds are those of the list prices; the rules only take off.
        add_line(subtotal, l.unit_price, l.quantity).map_err(|(field, message)| {
            CartUseCaseError::invalid(format!("items[{i}].{field}"), message)
        })?;
        // Within the subtotal's bounds, checked just above.
        let price = l
            .unit_price
            .checked_mul(l.quantity)
            .and_then(|t| t.checked_sub(Money::new(l.price_off(), currency)))
            .unwrap_or(Money::zero(currency));
        subtotal = subtotal.checked_add(price).unwrap_or(subtotal);
        // A coupon takes its share of the line's price after its rules.
        coupon_lines.push(CouponLine {
            product_id: l.product_id,
            category_id: Some(category_id),
            subtotal: price,
        });
    }
    Ok((lines, subtotal, coupon_lines, changes))
}

/// Turns `user_id`'s cart into an order, refusing a price the shopper has not seen.
/// Answers the order, `pending`.
pub async fn check_out(
    handlers: &Handlers,
    user_id: Uuid,
    delivery: Delivery,
    meta: CommandMeta,
) -> Result<CheckedOut, CartUseCaseError> {
    check_out_at_prices(handlers, user_id, delivery, false, meta).await
}

/// Turns `user_id`'s cart into an order. A line whose unit price moved since it was added
/// refuses the checkout ([`CartUseCaseError::PricesChanged`], nothing placed) unless the
/// client `accept`s the prices now. Answers the order, `pending`.
#[tracing::instrument(skip_all, fields(%user_id), err)]
pub async fn check_out_at_prices(
    handlers: &Handlers,
    user_id: Uuid,
    delivery: Delivery,
    accept: bool,
    meta: CommandMeta,
) -> Result<CheckedOut, CartUseCaseError> {
    delivery.check().map_err(|e| match e {
        OrdersError::Invalid { field, message } => CartUseCaseError::Invalid { field, message },
        other => CartUseCaseError::Order(other),
    })?;
    let cart_stream = CommandHandler::<Cart>::stream_id(user_id);
    let (cart, _) = handlers.carts.load(&cart_stream).await?;
    if cart.lines.is_empty() {
        return Err(CartUseCaseError::Rejected(CartError::Empty));
    }
    // The cart's prices were a snapshot; the order takes the catalog's prices now.
    let (lines, subtotal, coupon_lines, changes) =
        price_lines(handlers, &cart, user_id, meta.occurred_at).await?;
    if !changes.is_empty() && !accept {
        return Err(CartUseCaseError::PricesChanged { changes, subtotal });
    }
    let tax = tax_for(handlers, &delivery.shipping_address)
        .await
        .map_err(|e| CartUseCaseError::Failed(e.to_string()))?;
    // Quoted before the coupon is redeemed: a method refused leaves the coupon untouched.
    let shipping = shipping_for(handlers, &lines, subtotal, &delivery)
        .await
        .map_err(CartUseCaseError::Order)?;

    let order_id = Uuid::new_v4();
    let mut positions = Vec::new();
    let mut redeemed = None;
    let coupon = match &cart.coupon {
        None => None,
        Some(code) => {
            let Some((coupon_id, state)) = coupon_by_code(handlers, code).await? else {
                return Err(coupon_refused(
                    "the cart's coupon no longer exists; remove it",
                ));
            };
            let stream = CommandHandler::<Coupon>::stream_id(coupon_id);
            // The lines the discount is shared over (ADR 0006): those the coupon's scope
            // covers, by the terms it is redeemed under.
            let over = state
                .terms
                .as_ref()
                .map(|t| &t.scope)
                .filter(|scope| !scope.is_everything())
                .map(|scope| {
                    coupon_lines
                        .iter()
                        .filter(|l| scope.covers(l.product_id, l.category_id))
                        .map(|l| l.product_id)
                        .collect::<Vec<_>>()
                });
            let redeem = CouponCommand::Redeem {
                customer: user_id.into(),
                order_id: OrderId::new(order_id),
                lines: coupon_lines,
                at: meta.occurred_at,
            };
            let handled = handlers
                .coupons
                .handle(&stream, redeem, step(&meta, "redeem-coupon"))
                .await
                .map_err(|e| match e {
                    CommandError::Rejected(
                        e @ (CouponError::NotApplicable(_) | CouponError::BelowMinimumOrder(_)),
                    ) => CartUseCaseError::CouponNotApplicable {
                        message: e.to_string(),
                    },
                    CommandError::Rejected(e) => coupon_refused(e),
                    CommandError::Store(e) => CartUseCaseError::Store(e),
                    other => CartUseCaseError::Failed(other.to_string()),
                })?;
            let discount = match handled.events.first() {
                Some(CouponEvent::CouponRedeemed { discount, .. }) => *discount,
                _ => Money::zero(subtotal.currency),
            };
            positions.push(handled.position);
            redeemed = Some(stream);
            Some(Discount {
                code: code.clone(),
                amount: discount,
                over,
            })
        }
    };

    let place_meta = step(&meta, "place-order");
    let place = place_command(
        order_id,
        user_id.into(),
        lines,
        delivery,
        coupon,
        tax,
        shipping,
        &place_meta,
    );
    let order_stream = CommandHandler::<Order>::stream_id(order_id);
    let placed = match handlers
        .orders
        .handle(&order_stream, place, place_meta)
        .await
    {
        Ok(h) => h,
        Err(e) => {
            if let Some(stream) = redeemed {
                release_redemption(handlers, &stream, order_id, &meta).await;
            }
            return Err(CartUseCaseError::Order(e.into()));
        }
    };
    positions.push(placed.position);

    let check_out = CartCommand::CheckOut {
        order_id: OrderId::new(order_id),
        at: meta.occurred_at,
    };
    match handlers
        .carts
        .handle(&cart_stream, check_out, step(&meta, "check-out-cart"))
        .await
    {
        Ok(h) => positions.push(h.position),
        // The order stands; the cart keeps its lines and the customer can empty it.
        Err(e) => {
            tracing::error!(error = %e, %order_id, "order placed but the cart was not emptied")
        }
    }

    let (o, _) = handlers
        .orders
        .load(&order_stream)
        .await
        .map_err(|e| CartUseCaseError::Order(e.into()))?;
    let order = o
        .placed
        .ok_or_else(|| CartUseCaseError::Failed("a placed order has no state".into()))?;
    Ok(CheckedOut {
        order,
        position: positions.into_iter().flatten().max(),
    })
}

/// The compensation of a redemption whose order was never placed: its use of the coupon
/// no longer counts. A failure here is logged, not answered: the customer's answer is why
/// the order failed.
async fn release_redemption(
    handlers: &Handlers,
    coupon_stream: &str,
    order_id: Uuid,
    meta: &CommandMeta,
) {
    let release = CouponCommand::ReleaseRedemption {
        order_id: OrderId::new(order_id),
    };
    if let Err(e) = handlers
        .coupons
        .handle(coupon_stream, release, step(meta, "release-coupon"))
        .await
    {
        tracing::error!(error = %e, %order_id, "could not release a coupon redemption");
    }
}
