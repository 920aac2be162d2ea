//! The tax rule's properties (ADR 0006): shares of a discount add up to it exactly, and a
//! line's tax never depends on how the line is split into units.

use domain::money::{Currency, Money};
use domain::tax::{line_tax, share, Rounding, MAX_RATE_PPM};
use proptest::prelude::*;

proptest! {
    #[test]
    fn shares_add_up_to_the_whole_and_follow_the_weights(
        total in 0i64..1_000_000_000,
        weights in prop::collection::vec(0i64..1_000_000_000, 1..100),
    ) {
        let sum: i64 = weights.iter().sum();
        // A discount never exceeds what it is shared over.
        let total = total.min(sum);
        match share(total, &weights) {
            None => prop_assert!(sum == 0 && total > 0),
            Some(shares) => {
                prop_assert_eq!(shares.iter().sum::<i64>(), total);
                for (s, w) in shares.iter().zip(&weights) {
                    prop_assert!(*s >= 0 && s <= w);
                    // Within one minor unit of the exact proportion.
                    let exact = i128::from(total) * i128::from(*w);
                    let diff = i128::from(*s) * i128::from(sum) - exact;
                    prop_assert!(diff.abs() < i128::from(sum));
                }
            }
        }
    }

    #[test]
    fn tax_is_within_half_a_minor_unit_of_the_exact_amount(
        taxable in 0i64..1_000_000_000_000,
        rate_ppm in 0u32..=MAX_RATE_PPM,
        inclusive: bool,
    ) {
        let t = line_tax(Money::new(taxable, Currency::USD), rate_ppm, inclusive, Rounding::HalfUp)
            .unwrap();
        let denominator = 1_000_000i128 + if inclusive { i128::from(rate_ppm) } else { 0 };
        // |amount - taxable × rate / denominator| ≤ 1/2, in integers.
        let twice_error =
            2 * (i128::from(t.amount.amount) * denominator - i128::from(taxable) * i128::from(rate_ppm));
        prop_assert!(twice_error.abs() <= denominator);
        prop_assert!(t.amount.amount >= 0 && t.amount.amount <= taxable);
    }
}
