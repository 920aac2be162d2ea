//! Issue 23 item 4, given / when / then: a store's ledger records a paid line's sale with
//! the commission of its rule (stacked fees) and the rule's version; refunds give back tax,
//! commission and fee pro rata; a refund after a payout is a clawback that the next payout
//! recovers; a failed payout is reversed. And the property: whatever story of sales,
//! refunds, payouts and adjustments, every entry balances, the balance is the sum of the
//! entries, and no payout pays more than is owed.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::aggregate::{Aggregate, DomainEvent};
use domain::id::{OrderId, PayoutId, ProductId, VendorId};
use domain::ledger::{
    Account, Entry, EntryKind, LedgerCommand, LedgerError, LedgerEvent, LedgerState, Settlement,
    Sold, Totals, VendorLedger,
};
use domain::money::{Currency, Money};
use domain::value::Sku;
use domain::vendors::{CommissionRule, RuleSource};
use proptest::prelude::*;
use uuid::Uuid;

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::USD)
}

fn vendor() -> VendorId {
    VendorId::new(Uuid::from_u128(7))
}

fn order(i: u128) -> OrderId {
    OrderId::new(Uuid::from_u128(1000 + i))
}

fn sku(i: u8) -> Sku {
    Sku::parse(&format!("V-{i}")).unwrap()
}

fn sold(i: u8, gross: i64, tax: i64, rule: CommissionRule) -> Sold {
    Sold {
        product_id: ProductId::new(Uuid::from_u128(u128::from(i) + 50)),
        variant_id: None,
        sku: sku(i),
        quantity: 1,
        gross: usd(gross),
        tax: usd(tax),
        rule,
        rule_version: 3,
        rule_source: RuleSource::Vendor,
    }
}

fn stacked() -> CommissionRule {
    CommissionRule {
        percent_bp: 1_000,
        fixed: 30,
        min: 0,
        max: None,
    }
}

fn sale(o: u128, lines: Vec<Sold>, at: i64) -> LedgerCommand {
    LedgerCommand::RecordSale {
        vendor_id: vendor(),
        order_id: order(o),
        lines,
        at: t(at),
    }
}

fn refund(o: u128, key: &str, lines: Vec<(Sku, Option<i64>)>, at: i64) -> LedgerCommand {
    LedgerCommand::RecordRefund {
        vendor_id: vendor(),
        order_id: order(o),
        key: key.into(),
        lines,
        at: t(at),
    }
}

fn payout(p: u128, end: i64, at: i64) -> LedgerCommand {
    LedgerCommand::RequestPayout {
        vendor_id: vendor(),
        payout_id: PayoutId::new(Uuid::from_u128(p)),
        currency: None,
        period_start: None,
        period_end: t(end),
        at: t(at),
    }
}

fn settle(p: u128, paid: bool, at: i64) -> LedgerCommand {
    LedgerCommand::SettlePayout {
        payout_id: PayoutId::new(Uuid::from_u128(p)),
        outcome: if paid {
            Settlement::Paid {
                provider_reference: format!("po_{p}"),
            }
        } else {
            Settlement::Failed {
                reason: "account closed".into(),
            }
        },
        at: t(at),
    }
}

/// Decides each command on the state so far, folding what it records; a refusal fails
/// the test.
fn story(commands: Vec<LedgerCommand>) -> (LedgerState, Vec<LedgerEvent>) {
    let mut state = LedgerState::default();
    let mut log = Vec::new();
    for c in commands {
        let events = VendorLedger::decide(&state, &c).unwrap_or_else(|e| panic!("{c:?}: {e}"));
        for e in events {
            state = VendorLedger::evolve(state, &e);
            log.push(e);
        }
    }
    (state, log)
}

fn entries(log: &[LedgerEvent]) -> Vec<Entry> {
    log.iter().flat_map(|e| e.entries().to_vec()).collect()
}

fn totals(state: &LedgerState) -> Totals {
    state
        .totals
        .get(&Currency::USD)
        .copied()
        .unwrap_or_default()
}

#[test]
fn a_paid_line_records_its_sale_tax_commission_and_fee_with_the_rule_and_version() {
    // A line of 11.00 with 1.00 of tax: the store's sale is 10.00; 10% of it plus 0.30.
    let (state, log) = story(vec![sale(1, vec![sold(1, 1_100, 100, stacked())], 0)]);
    let LedgerEvent::VendorSaleRecorded { lines, entries, .. } = &log[0] else {
        panic!("{log:?}")
    };
    assert_eq!(lines[0].net, usd(1_000));
    assert_eq!(lines[0].commission, usd(100));
    assert_eq!(lines[0].fee, usd(30));
    assert_eq!((lines[0].rule, lines[0].rule_version), (stacked(), 3));
    // A dispute recomputes the commission from the rule on the line.
    let again = lines[0].rule.charge(lines[0].net.amount);
    assert_eq!(
        (again.commission, again.fee),
        (lines[0].commission.amount, lines[0].fee.amount)
    );
    let kinds: Vec<_> = entries.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EntryKind::Sale,
            EntryKind::Tax,
            EntryKind::Commission,
            EntryKind::Fee
        ]
    );
    assert!(entries.iter().all(Entry::balances));
    let t = totals(&state);
    assert_eq!(
        (t.gross, t.tax, t.commission, t.fees),
        (1_000, 100, 100, 30)
    );
    assert_eq!(t.net(), 870);
    assert_eq!(t.balance(), 870);
}

#[test]
fn a_sale_is_recorded_once_per_order_and_a_refund_once_per_key() {
    let (state, log) = story(vec![
        sale(1, vec![sold(1, 1_100, 100, stacked())], 0),
        sale(1, vec![sold(1, 1_100, 100, stacked())], 1),
        refund(1, "return:a", vec![(sku(1), Some(550))], 2),
        refund(1, "return:a", vec![(sku(1), Some(550))], 3),
    ]);
    assert_eq!(log.len(), 2);
    assert_eq!(state.lines.values().next().unwrap().refunded, 550);
}

#[test]
fn refunds_give_back_tax_commission_and_fee_pro_rata_and_exactly_in_full() {
    let (state, log) = story(vec![
        sale(1, vec![sold(1, 1_100, 100, stacked())], 0),
        // A third, then the rest: the parts given back add up to the parts charged.
        refund(1, "return:a", vec![(sku(1), Some(367))], 1),
        refund(1, "cancelled", vec![(sku(1), None)], 2),
        // Nothing is left to refund.
        refund(1, "refund:x", vec![(sku(1), None)], 3),
    ]);
    assert_eq!(log.len(), 3);
    let LedgerEvent::VendorRefundRecorded { lines, .. } = &log[1] else {
        panic!()
    };
    // 367 of 1,100: tax 33.36… → 33, commission 33.36… → 33, fee 10.0… → 10.
    assert_eq!(
        (lines[0].tax, lines[0].commission, lines[0].fee),
        (usd(33), usd(33), usd(10))
    );
    assert!(!lines[0].clawback);
    let t = totals(&state);
    assert_eq!((t.tax, t.commission, t.fees), (0, 0, 0));
    assert_eq!(t.refunds, 1_000);
    assert_eq!(t.balance(), 0);
    assert!(entries(&log).iter().all(Entry::balances));
}

#[test]
fn a_refund_after_a_payout_is_a_clawback_recovered_from_the_next_payout() {
    let (state, log) = story(vec![
        sale(1, vec![sold(1, 1_100, 100, stacked())], 0),
        payout(1, 10, 11),
        settle(1, true, 12),
        // The paid-out line is refunded: the store owes back 10.00 less 1.30 given back.
        refund(1, "cancelled", vec![(sku(1), None)], 20),
        sale(2, vec![sold(2, 5_500, 500, stacked())], 21),
        payout(2, 30, 31),
    ]);
    let t = totals(&state);
    assert_eq!(t.clawbacks, 1_000);
    assert_eq!(t.refunds, 0);
    let LedgerEvent::VendorPayoutRequested {
        amount, clawback, ..
    } = log.last().unwrap()
    else {
        panic!()
    };
    // The second sale earns 50.00 - 5.00 - 0.30 = 44.70; 8.70 of it goes to the clawback.
    assert_eq!(*clawback, usd(870));
    assert_eq!(*amount, usd(4_470 - 870));
    assert_eq!(t.clawback_outstanding, 0);
    assert_eq!(t.balance(), 0);
    assert!(entries(&log).iter().all(Entry::balances));
}

#[test]
fn a_failed_payout_is_reversed_and_the_store_is_owed_again() {
    let (state, log) = story(vec![
        sale(1, vec![sold(1, 1_100, 100, stacked())], 0),
        payout(1, 10, 11),
        settle(1, false, 12),
    ]);
    let t = totals(&state);
    assert_eq!((t.paid_out, t.balance()), (0, 870));
    assert!(state.lines.values().all(|l| l.paid_by.is_none()));
    // A refund now is a refund, not a clawback: the line was never paid out.
    let (_, more) = story(vec![
        sale(1, vec![sold(1, 1_100, 100, stacked())], 0),
        payout(1, 10, 11),
        settle(1, false, 12),
        refund(1, "cancelled", vec![(sku(1), None)], 13),
    ]);
    let LedgerEvent::VendorRefundRecorded { lines, .. } = more.last().unwrap() else {
        panic!()
    };
    assert!(!lines[0].clawback);
    assert_eq!(log.len(), 3);
}

#[test]
fn payouts_pay_what_the_period_earned_never_more_than_is_owed_one_at_a_time() {
    let base = vec![
        sale(1, vec![sold(1, 1_100, 100, stacked())], 0),
        sale(2, vec![sold(2, 2_200, 200, stacked())], 20),
    ];
    // The period ends before the second sale: only the first is paid.
    let (state, log) = story([base.clone(), vec![payout(1, 10, 30)]].concat());
    let LedgerEvent::VendorPayoutRequested { amount, .. } = log.last().unwrap() else {
        panic!()
    };
    assert_eq!(*amount, usd(870));
    assert!(matches!(
        VendorLedger::decide(&state, &payout(2, 40, 41)),
        Err(LedgerError::PayoutInFlight(_))
    ));
    // Nothing earned in a period: nothing to pay.
    let (empty, _) = story(base.clone());
    assert!(matches!(
        VendorLedger::decide(&empty, &payout(3, -5, 41)),
        Err(LedgerError::NothingToPay { .. })
    ));
    // Refunds after the period's end lower what is owed now: the payout takes the lower.
    let (owed, _) = story(
        [
            base,
            vec![refund(2, "cancelled", vec![(sku(2), None)], 25)],
            vec![refund(1, "return:r", vec![(sku(1), Some(1_000))], 26)],
        ]
        .concat(),
    );
    let now = totals(&owed).balance();
    assert!(0 < now && now < 870, "{now}");
    let events = VendorLedger::decide(&owed, &payout(4, 10, 30)).unwrap();
    let LedgerEvent::VendorPayoutRequested { amount, .. } = &events[0] else {
        panic!()
    };
    assert_eq!(amount.amount, now);
}

#[test]
fn adjustments_need_a_reason_and_move_the_balance_either_way() {
    let adjust = |amount: i64, reason: &str| LedgerCommand::Adjust {
        vendor_id: vendor(),
        adjustment_id: Uuid::from_u128(amount.unsigned_abs().into()),
        amount: usd(amount),
        reason: reason.into(),
        at: t(0),
    };
    assert!(matches!(
        VendorLedger::decide(&LedgerState::default(), &adjust(500, " ")),
        Err(LedgerError::InvalidReason(_))
    ));
    let (state, _) = story(vec![
        adjust(500, "goodwill"),
        adjust(-200, "damaged sample"),
    ]);
    let t = totals(&state);
    assert_eq!((t.adjustments, t.balance()), (300, 300));
}

#[test]
fn ledger_events_round_trip_through_their_stored_form() {
    let (_, log) = story(vec![
        sale(1, vec![sold(1, 1_100, 100, stacked())], 0),
        payout(1, 10, 11),
        settle(1, true, 12),
        refund(1, "cancelled", vec![(sku(1), None)], 20),
    ]);
    for e in log {
        let back = LedgerEvent::from_data(e.event_type(), e.schema_version(), e.to_data()).unwrap();
        assert_eq!(back, e);
    }
}

// ---- the property ----

#[derive(Debug, Clone)]
enum Step {
    Sale {
        order: u8,
        lines: Vec<(u8, i64, i64)>,
        rule: CommissionRule,
    },
    Refund {
        order: u8,
        line: u8,
        amount: Option<i64>,
        key: u8,
    },
    Payout {
        end_back: i64,
    },
    Settle {
        paid: bool,
    },
    Adjust {
        amount: i64,
    },
}

fn rule() -> impl Strategy<Value = CommissionRule> {
    (
        0u32..3_000,
        0i64..200,
        0i64..300,
        prop::option::of(0i64..5_000),
    )
        .prop_map(|(percent_bp, fixed, min, max)| CommissionRule {
            percent_bp,
            fixed,
            min: max.map_or(min, |m| min.min(m)),
            max,
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u8..8, prop::collection::vec((0u8..3, 0i64..50_000, 0i64..5_000), 1..3), rule())
            .prop_map(|(order, lines, rule)| Step::Sale { order, lines, rule }),
        3 => (0u8..8, 0u8..3, prop::option::of(0i64..30_000), 0u8..4)
            .prop_map(|(order, line, amount, key)| Step::Refund { order, line, amount, key }),
        2 => (0i64..40).prop_map(|end_back| Step::Payout { end_back }),
        2 => any::<bool>().prop_map(|paid| Step::Settle { paid }),
        1 => (-3_000i64..3_000).prop_map(|amount| Step::Adjust { amount }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any story of sales, refunds, payouts (paid or failed) and adjustments: every entry
    /// balances, the balance is the sum of the entries' effects and of the totals by kind,
    /// no line gives back more than it took, and no payout pays more than was owed.
    #[test]
    fn any_story_keeps_the_ledger_balanced_and_never_overpays(steps in prop::collection::vec(step(), 1..40)) {
        let mut state = LedgerState::default();
        let mut log: Vec<LedgerEvent> = Vec::new();
        let mut payouts = 0u128;
        for (i, s) in steps.into_iter().enumerate() {
            let now = t(i as i64 * 10);
            let command = match s {
                Step::Sale { order: o, lines, rule } => {
                    let mut seen = std::collections::BTreeSet::new();
                    let lines = lines
                        .into_iter()
                        .filter(|(l, _, _)| seen.insert(*l))
                        .map(|(l, gross, tax)| sold(l, gross, tax.min(gross), rule))
                        .collect();
                    sale(u128::from(o), lines, i as i64 * 10)
                }
                Step::Refund { order: o, line, amount, key } => refund(
                    u128::from(o),
                    &format!("k{key}"),
                    vec![(sku(line), amount)],
                    i as i64 * 10,
                ),
                Step::Payout { end_back } => {
                    payouts += 1;
                    payout(payouts, i as i64 * 10 - end_back * 10, i as i64 * 10)
                }
                Step::Settle { paid } => settle(payouts, paid, i as i64 * 10),
                Step::Adjust { amount } => LedgerCommand::Adjust {
                    vendor_id: vendor(),
                    adjustment_id: Uuid::from_u128(i as u128),
                    amount: usd(amount),
                    reason: "correction".into(),
                    at: now,
                },
            };
            let before = state.balance(Currency::USD);
            let Ok(events) = VendorLedger::decide(&state, &command) else {
                continue;
            };
            for e in events {
                if let LedgerEvent::VendorPayoutRequested { amount, .. } = &e {
                    prop_assert!(amount.amount > 0);
                    prop_assert!(amount.amount <= before, "paid {} of {} owed", amount.amount, before);
                }
                state = VendorLedger::evolve(state, &e);
                log.push(e);
            }
        }
        let all = entries(&log);
        for e in &all {
            prop_assert!(e.balances(), "{e:?}");
        }
        let debits: i64 = all.iter().map(Entry::debits).sum();
        let credits: i64 = all.iter().map(Entry::credits).sum();
        prop_assert_eq!(debits, credits);
        let effects: i64 = all.iter().map(Entry::effect).sum();
        let t = totals(&state);
        prop_assert_eq!(t.balance(), effects);
        prop_assert_eq!(Totals::of(&all), t);
        // The store's accounts hold exactly the balance.
        let payable: i64 = all.iter().map(|e| e.net_credit(Account::VendorPayable)).sum();
        let receivable: i64 = all.iter().map(|e| -e.net_credit(Account::ClawbackReceivable)).sum();
        prop_assert_eq!(payable - receivable, t.balance());
        prop_assert!(receivable >= 0);
        for l in state.lines.values() {
            prop_assert!(l.refunded <= l.sale.gross.amount);
            prop_assert!(l.tax_refunded <= l.sale.tax.amount);
            prop_assert!(l.commission_back <= l.sale.commission.amount);
            prop_assert!(l.fee_back <= l.sale.fee.amount);
        }
        // Replaying the stored events rebuilds the same state.
        let replayed = log
            .iter()
            .map(|e| LedgerEvent::from_data(e.event_type(), e.schema_version(), e.to_data()).unwrap())
            .fold(LedgerState::default(), |s, e| VendorLedger::evolve(s, &e));
        prop_assert_eq!(replayed, state);
    }
}
