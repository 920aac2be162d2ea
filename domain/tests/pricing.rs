//! The price engine (issue 24): the edges staff and shoppers meet (overlapping rules,
//! stacking, a window's exact second, a tier's boundary, several segments) as cases, and
//! what must hold for any rules and cart as properties: never below zero, never above the
//! list price, the same answer for any order of the lines and of the rules.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::id::{CategoryId, PriceRuleId, ProductId, VariantId};
use domain::money::{Currency, Money};
use domain::pricing::{
    price_lines, Adjustment, Customer, Outcome, PriceRuleTerms, PricingError, PricingLine, Rule,
    Scope, Segment, Tier, Window,
};
use proptest::prelude::*;
use uuid::Uuid;

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap()
}

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::parse("EUR").unwrap())
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn rule(n: u128, scope: Scope, adjustment: Adjustment) -> Rule {
    Rule {
        id: PriceRuleId::new(id(n)),
        version: 1,
        terms: PriceRuleTerms {
            name: format!("rule {n}"),
            scope,
            adjustment,
            window: Window::default(),
            priority: 0,
            stacks: true,
            segment: Segment::All,
        },
        enabled: true,
    }
}

fn percent(bp: u32) -> Adjustment {
    Adjustment::PercentOff { basis_points: bp }
}

fn line(product: u128, unit: i64, quantity: u32) -> PricingLine {
    PricingLine {
        product_id: ProductId::new(id(product)),
        variant_id: None,
        categories: vec![CategoryId::new(id(900))],
        vendor_id: None,
        unit_price: eur(unit),
        quantity,
    }
}

fn totals(rules: &[Rule], lines: &[PricingLine]) -> Vec<i64> {
    price_lines(rules, noon(), &Customer::default(), lines)
        .unwrap()
        .iter()
        .map(|p| p.total)
        .collect()
}

#[test]
fn the_higher_priority_applies_first_and_a_rule_that_does_not_stack_ends_the_walk() {
    let mut ten = rule(1, Scope::Store, percent(1_000));
    let mut five_off = rule(2, Scope::Store, Adjustment::AmountOff { amount: eur(500) });
    five_off.terms.priority = 10;
    // Stacking: 100.00 − 5.00 = 95.00, then 10% = 85.50.
    assert_eq!(
        totals(&[ten.clone(), five_off.clone()], &[line(1, 10_000, 1)]),
        [8_550]
    );

    // The amount off does not stack: it applies alone, and the 10% is refused.
    five_off.terms.stacks = false;
    let priced = price_lines(
        &[ten.clone(), five_off.clone()],
        noon(),
        &Customer::default(),
        &[line(1, 10_000, 1)],
    )
    .unwrap();
    assert_eq!(priced[0].total, 9_500);
    assert_eq!(priced[0].steps[1].outcome, Outcome::NotCombinable);

    // Now the 10% comes first: the amount off may not join a line already changed.
    ten.terms.priority = 20;
    let priced = price_lines(
        &[ten, five_off],
        noon(),
        &Customer::default(),
        &[line(1, 10_000, 1)],
    )
    .unwrap();
    assert_eq!(priced[0].total, 9_000);
    assert_eq!(priced[0].applied().len(), 1);
    assert_eq!(priced[0].steps[1].outcome, Outcome::NotCombinable);
}

#[test]
fn equal_priorities_go_by_rule_id_whatever_order_the_rules_arrive_in() {
    let mut a = rule(1, Scope::Store, percent(1_000));
    let mut b = rule(2, Scope::Store, percent(5_000));
    a.terms.stacks = false;
    b.terms.stacks = false;
    let l = [line(1, 999, 3)];
    assert_eq!(totals(&[a.clone(), b.clone()], &l), totals(&[b, a], &l));
    // Rule 1 (the lower id) won: 10% of 29.97 = 3.00 (2.997 rounded half up).
    assert_eq!(
        totals(&[rule(1, Scope::Store, percent(1_000))], &l),
        [2_697]
    );
}

#[test]
fn a_window_includes_its_start_and_excludes_its_end_to_the_second() {
    let mut sale = rule(1, Scope::Store, percent(5_000));
    sale.terms.window = Window {
        starts_at: Some(noon()),
        ends_at: Some(noon() + Duration::hours(1)),
    };
    let at = |t| {
        price_lines(
            &[sale.clone()],
            t,
            &Customer::default(),
            &[line(1, 1_000, 1)],
        )
        .unwrap()[0]
            .total
    };
    assert_eq!(at(noon() - Duration::seconds(1)), 1_000);
    assert_eq!(at(noon()), 500);
    assert_eq!(
        at(noon() + Duration::minutes(59) + Duration::seconds(59)),
        500
    );
    assert_eq!(at(noon() + Duration::hours(1)), 1_000);
}

#[test]
fn a_tier_starts_at_its_exact_quantity_counted_over_the_lines_in_scope() {
    let tiers = rule(
        1,
        Scope::Category {
            category_id: CategoryId::new(id(900)),
        },
        Adjustment::Tiered {
            tiers: vec![
                Tier {
                    min_quantity: 5,
                    basis_points: 1_000,
                },
                Tier {
                    min_quantity: 10,
                    basis_points: 2_000,
                },
            ],
        },
    );
    assert_eq!(
        totals(std::slice::from_ref(&tiers), &[line(1, 100, 4)]),
        [400]
    );
    assert_eq!(
        totals(std::slice::from_ref(&tiers), &[line(1, 100, 5)]),
        [450]
    );
    assert_eq!(
        totals(std::slice::from_ref(&tiers), &[line(1, 100, 9)]),
        [810]
    );
    // Two lines of the category make ten units together: both take the 20% tier.
    assert_eq!(
        totals(&[tiers], &[line(1, 100, 6), line(2, 100, 4)]),
        [480, 320]
    );
}

#[test]
fn buy_two_get_one_frees_the_cheapest_unit_in_every_ordering() {
    let rule = rule(
        1,
        Scope::Store,
        Adjustment::BuyXGetY {
            buy: 2,
            get: 1,
            basis_points: 10_000,
        },
    );
    let lines = [line(1, 3_000, 1), line(2, 1_000, 1), line(3, 2_000, 1)];
    let mut seen = BTreeSet::new();
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let shuffled: Vec<_> = order.iter().map(|&i| lines[i].clone()).collect();
        let priced = totals(std::slice::from_ref(&rule), &shuffled);
        let mut by_product: Vec<_> = order.iter().zip(priced).collect();
        by_product.sort();
        seen.insert(by_product.into_iter().map(|(_, t)| t).collect::<Vec<_>>());
    }
    // All six orderings: the 10.00 unit is free, the others full price.
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [vec![3_000, 0, 2_000]]
    );
}

#[test]
fn a_customer_in_several_segments_gets_one_answer_and_others_see_why_not() {
    let mut new = rule(1, Scope::Store, percent(1_000));
    new.terms.segment = Segment::NewCustomers;
    new.terms.stacks = false;
    let mut champions = rule(2, Scope::Store, percent(2_000));
    champions.terms.segment = Segment::Rfm {
        name: "champions".into(),
    };
    champions.terms.stacks = false;
    let both = Customer {
        segments: [
            Segment::Rfm {
                name: "champions".into(),
            },
            Segment::NewCustomers,
        ]
        .into(),
    };
    let l = [line(1, 1_000, 1)];
    let one = price_lines(&[new.clone(), champions.clone()], noon(), &both, &l).unwrap();
    let other = price_lines(&[champions.clone(), new.clone()], noon(), &both, &l).unwrap();
    assert_eq!(one, other);
    assert_eq!(one[0].total, 900);

    let nobody = price_lines(&[new, champions], noon(), &Customer::default(), &l).unwrap();
    assert_eq!(nobody[0].total, 1_000);
    assert!(nobody[0]
        .steps
        .iter()
        .all(|s| s.outcome == Outcome::NotForCustomer));
}

#[test]
fn set_prices_and_amounts_never_raise_a_price_or_cross_currencies() {
    let set = rule(1, Scope::Store, Adjustment::SetPrice { amount: eur(1_500) });
    assert_eq!(
        totals(std::slice::from_ref(&set), &[line(1, 1_000, 2)]),
        [2_000]
    );
    assert_eq!(totals(&[set], &[line(1, 2_000, 2)]), [3_000]);

    let dollars = rule(
        2,
        Scope::Store,
        Adjustment::AmountOff {
            amount: Money::new(100, Currency::USD),
        },
    );
    let priced = price_lines(
        &[dollars],
        noon(),
        &Customer::default(),
        &[line(1, 1_000, 1)],
    )
    .unwrap();
    assert_eq!(priced[0].total, 1_000);
    assert_eq!(priced[0].steps[0].outcome, Outcome::OtherCurrency);

    let huge = rule(
        3,
        Scope::Store,
        Adjustment::AmountOff { amount: eur(5_000) },
    );
    assert_eq!(totals(&[huge], &[line(1, 1_000, 3)]), [0]);
}

#[test]
fn scopes_pick_their_lines_and_a_disabled_rule_is_explained() {
    let variant = VariantId::new(id(77));
    let mut blue = line(1, 1_000, 1);
    blue.variant_id = Some(variant);
    let red = line(2, 1_000, 1);
    let mut off = rule(
        1,
        Scope::Variant {
            variant_id: variant,
        },
        percent(5_000),
    );
    assert_eq!(
        totals(&[off.clone()], &[blue.clone(), red.clone()]),
        [500, 1_000]
    );
    off.enabled = false;
    let priced = price_lines(&[off], noon(), &Customer::default(), &[blue, red]).unwrap();
    assert_eq!(priced[0].steps[0].outcome, Outcome::NotLive);
    assert!(priced[1].steps.is_empty());
}

#[test]
fn two_lines_of_one_product_and_variant_are_refused() {
    assert_eq!(
        price_lines(
            &[],
            noon(),
            &Customer::default(),
            &[line(1, 1, 1), line(1, 2, 1)]
        ),
        Err(PricingError::DuplicateLine(ProductId::new(id(1))))
    );
}

#[test]
fn terms_are_checked_field_by_field() {
    let mut r = rule(1, Scope::Store, percent(0)).terms;
    assert!(r
        .check()
        .unwrap_err()
        .to_string()
        .starts_with("adjustment.basis_points"));
    r.adjustment = Adjustment::Tiered {
        tiers: vec![
            Tier {
                min_quantity: 5,
                basis_points: 100,
            },
            Tier {
                min_quantity: 5,
                basis_points: 200,
            },
        ],
    };
    assert!(r
        .check()
        .unwrap_err()
        .to_string()
        .starts_with("adjustment.tiers"));
    r.adjustment = percent(100);
    r.window = Window {
        starts_at: Some(noon()),
        ends_at: Some(noon()),
    };
    assert!(r.check().unwrap_err().to_string().starts_with("window"));
    r.window = Window::default();
    r.segment = Segment::Rfm {
        name: "Champions!".into(),
    };
    assert!(r
        .check()
        .unwrap_err()
        .to_string()
        .starts_with("segment.name"));
    r.segment = Segment::All;
    assert_eq!(r.check(), Ok(()));
}

fn any_adjustment() -> impl Strategy<Value = Adjustment> {
    prop_oneof![
        (1u32..=10_000).prop_map(percent),
        (1i64..5_000).prop_map(|a| Adjustment::AmountOff { amount: eur(a) }),
        (1i64..5_000).prop_map(|a| Adjustment::SetPrice { amount: eur(a) }),
        (1u32..5, 1u32..=10_000, 1u32..=10_000).prop_map(|(q, a, b)| Adjustment::Tiered {
            tiers: vec![
                Tier {
                    min_quantity: q,
                    basis_points: a,
                },
                Tier {
                    min_quantity: q + 3,
                    basis_points: b,
                },
            ],
        }),
        (1u32..4, 1u32..3, 1u32..=10_000).prop_map(|(buy, get, bp)| Adjustment::BuyXGetY {
            buy,
            get,
            basis_points: bp,
        }),
    ]
}

fn any_rules() -> impl Strategy<Value = Vec<Rule>> {
    prop::collection::vec(
        (
            0u128..3,
            any_adjustment(),
            -2i32..3,
            any::<bool>(),
            any::<bool>(),
            0u8..3,
        ),
        0..8,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(
                |(n, (product, adjustment, priority, stacks, enabled, segment))| {
                    let scope = match product {
                        0 => Scope::Store,
                        p => Scope::Product {
                            product_id: ProductId::new(id(p)),
                        },
                    };
                    let mut r = rule(n as u128 + 100, scope, adjustment);
                    r.terms.priority = priority;
                    r.terms.stacks = stacks;
                    r.enabled = enabled;
                    r.terms.segment = match segment {
                        0 => Segment::All,
                        1 => Segment::NewCustomers,
                        _ => Segment::Rfm { name: "vip".into() },
                    };
                    r
                },
            )
            .collect()
    })
}

fn any_lines() -> impl Strategy<Value = Vec<PricingLine>> {
    prop::collection::btree_map(0u128..6, (0i64..100_000, 1u32..20), 1..6).prop_map(|m| {
        m.into_iter()
            .map(|(p, (unit, q))| line(p, unit, q))
            .collect()
    })
}

proptest! {
    #[test]
    fn a_price_stays_between_zero_and_the_list_and_its_steps_add_up(
        rules in any_rules(),
        lines in any_lines(),
        new_customer in any::<bool>(),
    ) {
        let customer = Customer {
            segments: if new_customer { [Segment::NewCustomers].into() } else { BTreeSet::new() },
        };
        let priced = price_lines(&rules, noon(), &customer, &lines).unwrap();
        for (p, l) in priced.iter().zip(&lines) {
            prop_assert!(p.total >= 0);
            prop_assert!(p.total <= p.list_total);
            prop_assert_eq!(p.list_total, l.unit_price.amount * i64::from(l.quantity));
            let off: i64 = p.applied().iter().map(|a| a.amount_off).sum();
            prop_assert_eq!(off, p.discount());
        }
    }

    #[test]
    fn the_order_of_lines_and_of_rules_changes_nothing(
        rules in any_rules(),
        lines in any_lines(),
        rotate_lines in 0usize..6,
        rotate_rules in 0usize..8,
    ) {
        let customer = Customer { segments: [Segment::Rfm { name: "vip".into() }].into() };
        let base = price_lines(&rules, noon(), &customer, &lines).unwrap();

        let mut other_lines = lines.clone();
        other_lines.reverse();
        let n = other_lines.len();
        other_lines.rotate_left(rotate_lines % n);
        let mut other_rules = rules.clone();
        other_rules.reverse();
        if !other_rules.is_empty() {
            let n = other_rules.len();
            other_rules.rotate_left(rotate_rules % n);
        }
        let again = price_lines(&other_rules, noon(), &customer, &other_lines).unwrap();
        for (l, p) in other_lines.iter().zip(&again) {
            let i = lines.iter().position(|x| x.product_id == l.product_id).unwrap();
            prop_assert_eq!(&base[i], p);
        }
    }
}

mod life {
    //! A rule's life, given / when / then.

    use super::*;
    use domain::aggregate::Aggregate;
    use domain::pricing::{
        PriceRule, PriceRuleCommand as C, PriceRuleError, PriceRuleEvent as E, RuleStatus,
    };

    fn given(events: &[E]) -> domain::pricing::PriceRuleState {
        events.iter().fold(Default::default(), PriceRule::evolve)
    }

    fn terms(window: Window) -> PriceRuleTerms {
        let mut t = rule(1, Scope::Store, percent(1_000)).terms;
        t.window = window;
        t
    }

    fn tomorrow() -> Window {
        Window {
            starts_at: Some(noon() + Duration::days(1)),
            ends_at: Some(noon() + Duration::days(2)),
        }
    }

    fn created(enabled: bool) -> E {
        E::PriceRuleCreated {
            rule_id: PriceRuleId::new(id(1)),
            terms: terms(tomorrow()),
            enabled,
            at: noon(),
        }
    }

    #[test]
    fn an_enabled_rule_is_scheduled_then_activated_then_expired_by_the_clock() {
        let s = given(&[created(true)]);
        assert_eq!(s.status, RuleStatus::Scheduled);
        // Nothing to record before the window starts.
        assert_eq!(PriceRule::decide(&s, &C::Tick { at: noon() }), Ok(vec![]));
        let start = noon() + Duration::days(1);
        let activated = PriceRule::decide(&s, &C::Tick { at: start }).unwrap();
        assert_eq!(activated, [E::PriceRuleActivated { at: start }]);
        let s = given(&[created(true), activated[0].clone()]);
        assert_eq!(s.status, RuleStatus::Active);
        assert_eq!(PriceRule::decide(&s, &C::Tick { at: start }), Ok(vec![]));
        let end = noon() + Duration::days(2);
        assert_eq!(
            PriceRule::decide(&s, &C::Tick { at: end }),
            Ok(vec![E::PriceRuleExpired { at: end }])
        );
    }

    #[test]
    fn a_change_raises_the_version_and_a_draft_is_never_live() {
        let s = given(&[created(false)]);
        assert_eq!(s.status, RuleStatus::Draft);
        assert_eq!(
            PriceRule::decide(
                &s,
                &C::Tick {
                    at: noon() + Duration::days(1)
                }
            ),
            Ok(vec![])
        );
        let changed = PriceRule::decide(
            &s,
            &C::Update {
                terms: terms(Window::default()),
                at: noon(),
            },
        )
        .unwrap();
        assert!(matches!(
            changed[..],
            [E::PriceRuleUpdated { version: 2, .. }]
        ));
        let s = given(&[created(false), changed[0].clone()]);
        assert_eq!(s.rule.as_ref().unwrap().version, 2);
        // The same terms again record nothing.
        assert_eq!(
            PriceRule::decide(
                &s,
                &C::Update {
                    terms: terms(Window::default()),
                    at: noon()
                }
            ),
            Ok(vec![])
        );
        let enabled = PriceRule::decide(&s, &C::Enable { at: noon() }).unwrap();
        let s = given(&[created(false), changed[0].clone(), enabled[0].clone()]);
        assert_eq!(s.status, RuleStatus::Active);
        assert!(s.rule.unwrap().live(noon(), &BTreeSet::new()));
    }

    #[test]
    fn bad_terms_and_unknown_rules_are_refused() {
        let mut bad = terms(Window::default());
        bad.name = " ".into();
        assert!(matches!(
            PriceRule::decide(
                &Default::default(),
                &C::Create {
                    rule_id: PriceRuleId::new(id(1)),
                    terms: bad,
                    enabled: true,
                    at: noon()
                }
            ),
            Err(PriceRuleError::Invalid(_))
        ));
        assert_eq!(
            PriceRule::decide(&Default::default(), &C::Enable { at: noon() }),
            Err(PriceRuleError::NotCreated)
        );
        assert_eq!(
            PriceRule::decide(
                &given(&[created(true)]),
                &C::Create {
                    rule_id: PriceRuleId::new(id(1)),
                    terms: terms(Window::default()),
                    enabled: true,
                    at: noon()
                }
            ),
            Err(PriceRuleError::AlreadyCreated)
        );
    }
}
