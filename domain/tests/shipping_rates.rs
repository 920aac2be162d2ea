//! Issue 22, item 3, given / when / then: shipping zones (countries and regions, never
//! two zones for one area), methods per zone, rates by weight or order value, the
//! free-shipping threshold, and the quote of an order to a destination.

use domain::aggregate::Aggregate;
use domain::money::{Currency, Money};
use domain::shipping::{
    Consignment, Destination, QuoteError, RateBasis, RateBracket, RatesCommand, RatesError,
    RatesEvent, RatesState, ShippingMethod, ShippingRates, ShippingZone,
};
use domain::tax::TaxZone;

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::parse("EUR").unwrap())
}

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::USD)
}

fn bracket(up_to: Option<i64>, fee: Money) -> RateBracket {
    RateBracket { up_to, fee }
}

/// `standard` by weight (4.50 to 1 kg, 9.00 to 5 kg, nothing heavier), free from 100.00.
fn standard(currency: fn(i64) -> Money) -> ShippingMethod {
    ShippingMethod {
        code: "standard".into(),
        name: "Standard".into(),
        carrier: "test".into(),
        service_level: "standard".into(),
        basis: RateBasis::Weight,
        rates: vec![
            bracket(Some(1_000), currency(450)),
            bracket(Some(5_000), currency(900)),
        ],
        free_over: Some(currency(10_000)),
    }
}

/// `express` by order value: 15.00 to 50.00, then 12.00.
fn express(currency: fn(i64) -> Money) -> ShippingMethod {
    ShippingMethod {
        code: "express".into(),
        name: "Express".into(),
        carrier: "test".into(),
        service_level: "express".into(),
        basis: RateBasis::OrderValue,
        rates: vec![
            bracket(Some(5_000), currency(1_500)),
            bracket(None, currency(1_200)),
        ],
        free_over: None,
    }
}

fn area(country: &str, region: Option<&str>) -> TaxZone {
    TaxZone::new(country, region).unwrap()
}

fn eu() -> ShippingZone {
    ShippingZone {
        code: "eu".into(),
        name: "Europe".into(),
        areas: vec![area("DE", None), area("FR", None)],
        methods: vec![standard(eur), express(eur)],
    }
}

fn islands() -> ShippingZone {
    ShippingZone {
        code: "islands".into(),
        name: "Canary Islands".into(),
        areas: vec![area("ES", Some("CN"))],
        methods: vec![express(eur)],
    }
}

fn rates(zones: &[ShippingZone]) -> RatesState {
    zones.iter().fold(RatesState::default(), |s, z| {
        let events =
            ShippingRates::decide(&s, &RatesCommand::SetZone(Box::new(z.clone()))).unwrap();
        events.iter().fold(s, ShippingRates::evolve)
    })
}

fn to(country: &str, region: Option<&str>) -> Destination {
    Destination {
        country: country.into(),
        region: region.map(Into::into),
    }
}

fn order(weight_grams: i64, value: Money) -> Consignment {
    Consignment {
        weight_grams,
        value,
    }
}

fn field_of(e: RatesError) -> String {
    match e {
        RatesError::Invalid { field, .. } => field,
        other => panic!("not a field refusal: {other:?}"),
    }
}

#[test]
fn a_zone_is_set_whole_and_the_same_zone_again_appends_nothing() {
    let s = RatesState::default();
    let events = ShippingRates::decide(&s, &RatesCommand::SetZone(Box::new(eu()))).unwrap();
    assert_eq!(events, vec![RatesEvent::ShippingZoneSet { zone: eu() }]);
    let s = events.iter().fold(s, ShippingRates::evolve);
    assert_eq!(
        ShippingRates::decide(&s, &RatesCommand::SetZone(Box::new(eu()))).unwrap(),
        vec![]
    );
    let removed =
        ShippingRates::decide(&s, &RatesCommand::RemoveZone { code: "eu".into() }).unwrap();
    let s = removed.iter().fold(s, ShippingRates::evolve);
    assert!(s.zones.is_empty());
    assert_eq!(
        ShippingRates::decide(&s, &RatesCommand::RemoveZone { code: "eu".into() }),
        Err(RatesError::UnknownZone("eu".into()))
    );
}

#[test]
fn an_area_belongs_to_one_zone_only() {
    let s = rates(&[eu()]);
    let mut other = islands();
    other.areas.push(area("FR", None));
    let refused = ShippingRates::decide(&s, &RatesCommand::SetZone(Box::new(other))).unwrap_err();
    assert_eq!(field_of(refused), "areas[1]");
    // A region of a country another zone names whole is its own area.
    assert!(ShippingRates::decide(&s, &RatesCommand::SetZone(Box::new(islands()))).is_ok());
}

#[test]
fn the_rules_name_the_field_they_refuse() {
    let s = RatesState::default();
    let refuse = |z: ShippingZone| {
        field_of(ShippingRates::decide(&s, &RatesCommand::SetZone(Box::new(z))).unwrap_err())
    };
    let mut z = eu();
    z.code = "Europe!".into();
    assert_eq!(refuse(z), "code");
    let mut z = eu();
    z.methods[0].rates = vec![
        bracket(Some(5_000), eur(900)),
        bracket(Some(1_000), eur(450)),
    ];
    assert_eq!(refuse(z), "methods[0].rates[1].up_to");
    let mut z = eu();
    z.methods[1].rates = vec![bracket(None, eur(900)), bracket(Some(10), eur(1))];
    assert_eq!(refuse(z), "methods[1].rates[0].up_to");
    let mut z = eu();
    z.methods[1].rates[1].fee = usd(1_200);
    assert_eq!(refuse(z), "methods[1].rates[1].fee");
    let mut z = eu();
    z.methods[0].rates[0].fee = eur(-1);
    assert_eq!(refuse(z), "methods[0].rates[0].fee");
    let mut z = eu();
    z.methods[1].code = "standard".into();
    assert_eq!(refuse(z), "methods[1].code");
    let mut z = eu();
    z.methods.clear();
    assert_eq!(refuse(z), "methods");
    let mut z = eu();
    z.areas.push(area("DE", None));
    assert_eq!(refuse(z), "areas[2]");
}

#[test]
fn a_region_is_served_by_its_own_zone_before_its_country() {
    let mut spain = ShippingZone {
        code: "spain".into(),
        name: "Spain".into(),
        areas: vec![area("ES", None)],
        methods: vec![standard(eur)],
    };
    spain.methods[0].code = "standard".into();
    let s = rates(&[eu(), islands(), spain]);
    assert_eq!(s.zone_for(&to("es", Some("cn"))).unwrap().code, "islands");
    assert_eq!(s.zone_for(&to("ES", Some("MD"))).unwrap().code, "spain");
    assert_eq!(s.zone_for(&to("DE", Some("BY"))).unwrap().code, "eu");
    assert!(s.zone_for(&to("US", None)).is_none());
}

#[test]
fn a_weight_rate_takes_the_first_bracket_the_order_fits_in() {
    let s = rates(&[eu()]);
    let fee = |grams| {
        s.quote(&to("DE", None), &order(grams, eur(2_000)), "standard")
            .map(|q| q.fee)
    };
    assert_eq!(fee(0), Ok(eur(450)));
    assert_eq!(fee(1_000), Ok(eur(450)));
    assert_eq!(fee(1_001), Ok(eur(900)));
    assert_eq!(fee(5_000), Ok(eur(900)));
    // Heavier than its last bracket: the method does not carry it.
    assert!(matches!(
        fee(5_001),
        Err(QuoteError::MethodUnavailable { .. })
    ));
}

#[test]
fn an_order_value_rate_and_the_free_shipping_threshold() {
    let s = rates(&[eu()]);
    let quote = |value, method| s.quote(&to("FR", None), &order(3_000, eur(value)), method);
    assert_eq!(quote(5_000, "express").unwrap().fee, eur(1_500));
    assert_eq!(quote(5_001, "express").unwrap().fee, eur(1_200));
    // At the threshold, standard ships free, whatever the weight bracket said.
    let free = quote(10_000, "standard").unwrap();
    assert_eq!((free.fee, free.free), (eur(0), true));
    let paid = quote(9_999, "standard").unwrap();
    assert_eq!((paid.fee, paid.free), (eur(900), false));
}

#[test]
fn the_quotes_list_the_zones_methods_cheapest_first() {
    let s = rates(&[eu()]);
    let quotes = s.quotes(&to("DE", None), &order(500, eur(2_000)));
    let codes: Vec<(&str, i64)> = quotes
        .iter()
        .map(|q| (q.method.code.as_str(), q.fee.amount))
        .collect();
    assert_eq!(codes, vec![("standard", 450), ("express", 1_500)]);
    // Too heavy for standard: only express is offered.
    let quotes = s.quotes(&to("DE", None), &order(9_000, eur(2_000)));
    assert_eq!(quotes.len(), 1);
    assert_eq!(quotes[0].method.code, "express");
    // Another currency than the zone's: nothing serves the order.
    assert!(s
        .quotes(&to("DE", None), &order(500, usd(2_000)))
        .is_empty());
}

#[test]
fn checkout_charges_the_method_named_else_the_cheapest_else_refuses() {
    let s = rates(&[eu(), islands()]);
    let de = to("DE", None);
    let parcel = order(500, eur(2_000));
    assert_eq!(
        s.charge(&de, &parcel, None).unwrap().unwrap().method.code,
        "standard"
    );
    assert_eq!(
        s.charge(&de, &parcel, Some("express"))
            .unwrap()
            .unwrap()
            .fee,
        eur(1_500)
    );
    assert_eq!(
        s.charge(&de, &parcel, Some("teleport")),
        Err(QuoteError::UnknownMethod("teleport".into()))
    );
    // The islands' zone offers express only.
    assert!(matches!(
        s.charge(&to("ES", Some("CN")), &parcel, Some("standard")),
        Err(QuoteError::MethodUnavailable { .. })
    ));
    assert_eq!(
        s.charge(&to("US", None), &parcel, None),
        Err(QuoteError::NotServed)
    );
    // A store that has set up no zones ships free, as before there were rates.
    assert_eq!(RatesState::default().charge(&de, &parcel, None), Ok(None));
    assert_eq!(
        RatesState::default().charge(&de, &parcel, Some("standard")),
        Err(QuoteError::UnknownMethod("standard".into()))
    );
}
