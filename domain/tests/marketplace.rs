//! Issue 23, given / when / then: a store's life cycle (applied, approved or rejected,
//! suspended, reinstated) and terms; the proof of purchase a review rests on, read from an
//! order's events; and a review's rules (the author edits, one helpful vote per shopper,
//! moderation with a reason, the product's vendor replies).

mod support;

use domain::aggregate::Aggregate;
use domain::id::{OrderId, ProductId, ReviewId, ShipmentId, UserId, VendorId};
use domain::order::{ChangedBy, Order, OrderCommand, OrderEvent, OrderState, ShippedLine};
use domain::reviews::{
    proof_of_purchase, NewReview, Review, ReviewCommand, ReviewError, ReviewEvent, ReviewText,
};
use domain::value::{Email, Slug};
use domain::vendors::{
    Application, Terms, Vendor, VendorCommand, VendorError, VendorEvent, VendorStatus,
};
use support::{at, line, place};
use uuid::Uuid;

fn given<A: Aggregate>(
    events: &[A::Event],
    command: A::Command,
) -> Result<Vec<A::Event>, A::Error> {
    let state = events.iter().fold(A::State::default(), A::evolve);
    A::decide(&state, &command)
}

fn owner() -> UserId {
    UserId::new(Uuid::from_u128(42))
}

fn apply(store_name: &str) -> VendorCommand {
    VendorCommand::Apply(Box::new(Application {
        vendor_id: VendorId::from(owner()),
        owner_id: owner(),
        store_name: store_name.into(),
        slug: Slug::parse("vera-lamps").unwrap(),
        description: None,
        logo_url: Some("https://cdn.example.com/logo.png".into()),
        contact_email: Email::parse("vera@example.com").unwrap(),
        contact_phone: None,
        payout: None,
        at: at(),
    }))
}

fn to(status: VendorStatus, reason: Option<&str>) -> VendorCommand {
    VendorCommand::ChangeStatus {
        to: status,
        reason: reason.map(str::to_owned),
        at: at(),
    }
}

fn applied() -> Vec<VendorEvent> {
    given::<Vendor>(&[], apply("Vera's Lamps")).unwrap()
}

fn then(events: &[VendorEvent], command: VendorCommand) -> Vec<VendorEvent> {
    let mut all = events.to_vec();
    all.extend(given::<Vendor>(events, command).unwrap());
    all
}

#[test]
fn a_store_is_applied_for_once_with_a_name() {
    assert_eq!(applied().len(), 1);
    assert_eq!(
        given::<Vendor>(&applied(), apply("Again")),
        Err(VendorError::AlreadyApplied)
    );
    assert!(matches!(
        given::<Vendor>(&[], apply("  ")),
        Err(VendorError::Invalid {
            field: "store_name",
            ..
        })
    ));
}

#[test]
fn approval_rejection_suspension_and_reinstatement_follow_the_life_cycle() {
    use VendorStatus::*;
    // A pending store cannot be suspended; a rejection needs a reason.
    assert!(matches!(
        given::<Vendor>(&applied(), to(Suspended, Some("fraud"))),
        Err(VendorError::Transition { .. })
    ));
    assert_eq!(
        given::<Vendor>(&applied(), to(Rejected, None)),
        Err(VendorError::MissingReason)
    );
    // Rejected, then approved after all.
    let rejected = then(&applied(), to(Rejected, Some("no documents")));
    let approved = then(&rejected, to(Approved, None));
    assert!(matches!(
        approved.last(),
        Some(VendorEvent::VendorApproved { .. })
    ));
    // Approving again changes nothing; an approved store is not rejected.
    assert_eq!(given::<Vendor>(&approved, to(Approved, None)), Ok(vec![]));
    assert!(given::<Vendor>(&approved, to(Rejected, Some("late"))).is_err());
    // Suspended, then reinstated: a reinstatement, not a second approval.
    let suspended = then(&approved, to(Suspended, Some("complaints")));
    let state = suspended.iter().fold(Default::default(), Vendor::evolve);
    let record = state.vendor.as_ref().unwrap();
    assert_eq!(record.status, Suspended);
    assert_eq!(record.status_reason.as_deref(), Some("complaints"));
    let back = given::<Vendor>(&suspended, to(Approved, Some("settled"))).unwrap();
    assert!(matches!(
        back.as_slice(),
        [VendorEvent::VendorReinstated { .. }]
    ));
}

#[test]
fn a_store_moves_exactly_where_its_status_says_it_may() {
    use VendorStatus::*;
    let approved = then(&applied(), to(Approved, None));
    let reached = [
        (Pending, applied()),
        (Approved, approved.clone()),
        (
            Rejected,
            then(&applied(), to(Rejected, Some("no documents"))),
        ),
        (
            Suspended,
            then(&approved, to(Suspended, Some("complaints"))),
        ),
    ];
    for (from, events) in &reached {
        for target in [Pending, Approved, Rejected, Suspended] {
            let decided = given::<Vendor>(events, to(target, Some("because")));
            match decided {
                Ok(new) if *from == target => assert!(new.is_empty(), "{from:?} to itself"),
                Ok(new) => {
                    assert!(
                        from.moves().contains(&target),
                        "{from:?} → {target:?} allowed"
                    );
                    assert_eq!(new.len(), 1);
                }
                Err(VendorError::Transition { .. }) => {
                    assert!(
                        !from.moves().contains(&target),
                        "{from:?} → {target:?} refused"
                    )
                }
                Err(other) => panic!("{from:?} → {target:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn terms_bound_the_commission_and_change_only_when_they_differ() {
    let terms = |commission_bp, trusted| VendorCommand::ChangeTerms {
        terms: Terms {
            commission_bp,
            trusted,
        },
        at: at(),
    };
    assert_eq!(
        given::<Vendor>(&applied(), terms(Some(10_001), false)),
        Err(VendorError::CommissionOutOfRange(10_001))
    );
    assert_eq!(given::<Vendor>(&applied(), terms(None, false)), Ok(vec![]));
    let set = then(&applied(), terms(Some(1500), true));
    let state = set.iter().fold(Default::default(), Vendor::evolve);
    assert_eq!(
        state.vendor.unwrap().terms,
        Terms {
            commission_bp: Some(1500),
            trusted: true
        }
    );
}

/// The events of order 7 (user 8: 3 × SKU-0 of product 100, 1 × SKU-1 of product 101),
/// each with an id, after `commands`.
fn order_events(commands: Vec<OrderCommand>) -> Vec<(Uuid, OrderEvent)> {
    let mut state = OrderState::default();
    let mut out = vec![];
    let mut all = vec![place(vec![line(0, 3, 1000), line(1, 1, 500)], 0, 0, 0)];
    all.push(OrderCommand::MarkStockReserved { at: at() });
    all.extend(commands);
    for c in all {
        let events = Order::decide(&state, &c).expect("accepted");
        for e in events {
            state = Order::evolve(state, &e);
            out.push((Uuid::from_u128(1000 + out.len() as u128), e));
        }
    }
    out
}

fn by() -> ChangedBy {
    ChangedBy {
        user_id: None,
        role: "staff".into(),
    }
}

fn paid() -> OrderCommand {
    let state = [
        place(vec![line(0, 3, 1000), line(1, 1, 500)], 0, 0, 0),
        OrderCommand::MarkStockReserved { at: at() },
    ]
    .into_iter()
    .fold(OrderState::default(), |s, c| {
        Order::decide(&s, &c).unwrap().iter().fold(s, Order::evolve)
    });
    OrderCommand::MarkPaid {
        amount: state.placed.unwrap().totals.total,
        payment_reference: "ch_1".into(),
        at: at(),
    }
}

fn buyer() -> UserId {
    UserId::new(Uuid::from_u128(8))
}

fn product(n: u128) -> ProductId {
    ProductId::new(Uuid::from_u128(n))
}

#[test]
fn a_delivered_order_proves_the_purchase_by_its_events() {
    let events = order_events(vec![
        paid(),
        OrderCommand::Ship {
            tracking_number: None,
            note: None,
            by: by(),
            at: at(),
        },
        OrderCommand::Deliver {
            note: None,
            by: by(),
            at: at(),
        },
    ]);
    let proof = proof_of_purchase(&events, buyer(), product(100)).expect("a proof");
    assert_eq!(proof.order_id, OrderId::new(Uuid::from_u128(7)));
    let placed = events[0].0;
    let delivered = events
        .iter()
        .find(|(_, e)| matches!(e, OrderEvent::OrderDelivered { .. }))
        .unwrap()
        .0;
    assert_eq!(proof.event_ids, vec![placed, delivered]);
    // Not someone else's purchase, not another product.
    assert_eq!(proof_of_purchase(&events, owner(), product(100)), None);
    assert_eq!(proof_of_purchase(&events, buyer(), product(999)), None);
}

#[test]
fn only_a_delivered_line_kept_by_the_buyer_proves_it() {
    // Paid, not delivered.
    assert_eq!(
        proof_of_purchase(&order_events(vec![paid()]), buyer(), product(100)),
        None
    );
    // Delivered, then refunded in full.
    let refunded = order_events(vec![
        paid(),
        OrderCommand::Ship {
            tracking_number: None,
            note: None,
            by: by(),
            at: at(),
        },
        OrderCommand::Deliver {
            note: None,
            by: by(),
            at: at(),
        },
        OrderCommand::Refund {
            amount: None,
            reason: "returned".into(),
            by: by(),
            at: at(),
        },
    ]);
    assert_eq!(proof_of_purchase(&refunded, buyer(), product(100)), None);
    // A shipment of SKU-1 arrived: it proves product 101, not product 100 (still on its
    // way in no shipment).
    let shipment = ShipmentId::new(Uuid::from_u128(900));
    let sku1 = vec![ShippedLine {
        sku: domain::value::Sku::parse("SKU-1").unwrap(),
        quantity: 1,
    }];
    let one_parcel = order_events(vec![
        paid(),
        OrderCommand::AllocateShipment {
            shipment_id: shipment,
            lines: sku1,
            at: at(),
        },
        OrderCommand::ShipLines {
            shipment_id: shipment,
            tracking_number: None,
            by: by(),
            at: at(),
        },
        OrderCommand::RecordShipmentDelivered {
            shipment_id: shipment,
            by: by(),
            at: at(),
        },
    ]);
    assert!(proof_of_purchase(&one_parcel, buyer(), product(101)).is_some());
    assert_eq!(proof_of_purchase(&one_parcel, buyer(), product(100)), None);
}

fn text(rating: u8) -> ReviewText {
    ReviewText {
        rating,
        title: "Lovely".into(),
        body: "A lovely lamp.".into(),
        images: vec![],
    }
}

fn write(rating: u8) -> ReviewCommand {
    ReviewCommand::Write(Box::new(NewReview {
        review_id: ReviewId::new(Uuid::from_u128(5)),
        product_id: product(100),
        vendor_id: Some(VendorId::from(owner())),
        author_id: buyer(),
        text: text(rating),
        order_id: OrderId::new(Uuid::from_u128(7)),
        proof: vec![Uuid::from_u128(1000), Uuid::from_u128(1003)],
        at: at(),
    }))
}

fn written() -> Vec<ReviewEvent> {
    given::<Review>(&[], write(5)).unwrap()
}

#[test]
fn a_review_keeps_its_proof_and_a_rating_of_one_to_five() {
    assert_eq!(given::<Review>(&[], write(0)), Err(ReviewError::Rating(0)));
    assert_eq!(given::<Review>(&[], write(6)), Err(ReviewError::Rating(6)));
    match written().as_slice() {
        [ReviewEvent::ReviewWritten {
            proof_event_ids, ..
        }] => assert_eq!(proof_event_ids.len(), 2),
        other => panic!("{other:?}"),
    }
    let mut bad = text(4);
    bad.images = vec!["javascript:alert(1)".into()];
    assert!(matches!(
        given::<Review>(
            &written(),
            ReviewCommand::Edit {
                by: buyer(),
                text: bad,
                at: at()
            }
        ),
        Err(ReviewError::Invalid {
            field: "images",
            ..
        })
    ));
}

#[test]
fn only_the_author_edits_shoppers_vote_once_staff_moderate_the_vendor_replies() {
    let stranger = UserId::new(Uuid::from_u128(77));
    assert_eq!(
        given::<Review>(
            &written(),
            ReviewCommand::Edit {
                by: stranger,
                text: text(1),
                at: at()
            }
        ),
        Err(ReviewError::NotAuthor)
    );
    let vote = |by| ReviewCommand::MarkHelpful { by, at: at() };
    assert_eq!(
        given::<Review>(&written(), vote(buyer())),
        Err(ReviewError::OwnReview)
    );
    let mut voted = written();
    voted.extend(given::<Review>(&written(), vote(stranger)).unwrap());
    assert_eq!(given::<Review>(&voted, vote(stranger)), Ok(vec![]));
    let hide = |visible, reason: &str| ReviewCommand::Moderate {
        visible,
        reason: reason.into(),
        at: at(),
    };
    assert_eq!(
        given::<Review>(&written(), hide(false, " ")),
        Err(ReviewError::MissingReason)
    );
    let mut hidden = written();
    hidden.extend(given::<Review>(&written(), hide(false, "spam")).unwrap());
    assert_eq!(given::<Review>(&hidden, hide(false, "spam")), Ok(vec![]));
    assert!(matches!(
        given::<Review>(&hidden, hide(true, "fine"))
            .unwrap()
            .as_slice(),
        [ReviewEvent::ReviewRestored { .. }]
    ));
    let reply = |by| ReviewCommand::Reply {
        by,
        reply: "Thanks!".into(),
        at: at(),
    };
    assert_eq!(
        given::<Review>(&written(), reply(VendorId::from(stranger))),
        Err(ReviewError::NotTheVendor)
    );
    assert!(given::<Review>(&written(), reply(VendorId::from(owner()))).is_ok());
    // Withdrawn, it takes nothing more.
    let mut gone = written();
    gone.extend(
        given::<Review>(
            &written(),
            ReviewCommand::Withdraw {
                by: buyer(),
                at: at(),
            },
        )
        .unwrap(),
    );
    assert_eq!(
        given::<Review>(&gone, vote(stranger)),
        Err(ReviewError::Withdrawn)
    );
}
