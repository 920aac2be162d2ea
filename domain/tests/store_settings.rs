//! Issue 22, items 5 and 6, given / when / then: the store's settings, its typed
//! configuration keys and its navigation menus, decided on the state their events fold to.

use domain::aggregate::Aggregate;
use domain::configuration::{
    known, ConfigCommand, ConfigError, ConfigEvent, ConfigValue, Configuration,
};
use domain::money::Currency;
use domain::navigation::{
    Link, Menu, MenuItem, MenuName, NavigationCommand, NavigationError, NavigationEvent, MAX_DEPTH,
    MAX_ITEMS,
};
use domain::shop::{SettingsDraft, SettingsError, Shop, ShopCommand, ShopEvent, StoreSettings};
use serde_json::json;
use uuid::Uuid;

/// Given `events`, when `command`, then what `decide` answers.
fn given<A: Aggregate>(
    events: &[A::Event],
    command: A::Command,
) -> Result<Vec<A::Event>, A::Error> {
    let state = events.iter().fold(A::State::default(), A::evolve);
    A::decide(&state, &command)
}

fn draft() -> SettingsDraft {
    SettingsDraft {
        name: "  Corner Shop ".into(),
        default_currency: "EUR".into(),
        accepted_currencies: Some(vec!["EUR".into(), "USD".into()]),
        default_locale: "de_de".into(),
        locales: Some(vec!["de-DE".into(), "en".into()]),
        address: None,
        tax_inclusive_display: true,
        order_number_format: Some("CS-{yy}{mm}-{seq:5}".into()),
    }
}

fn field_of(e: SettingsError) -> String {
    match e {
        SettingsError::Invalid { field, .. } => field,
    }
}

#[test]
fn settings_replaced_are_recorded_checked_with_the_fields_that_changed() {
    let events = given::<Shop>(&[], ShopCommand::ReplaceSettings(draft())).unwrap();
    let [ShopEvent::StoreSettingsChanged { settings, changed }] = events.as_slice() else {
        panic!("one event: {events:?}");
    };
    assert_eq!(settings.name, "Corner Shop");
    assert_eq!(settings.default_locale.as_str(), "de-DE");
    assert_eq!(
        settings.accepted_currencies,
        vec![Currency::parse("EUR").unwrap(), Currency::USD]
    );
    assert_eq!(
        changed,
        &[
            "name",
            "default_currency",
            "accepted_currencies",
            "default_locale",
            "locales",
            "tax_inclusive_display",
            "order_number_format"
        ]
    );
    // The same document again changes nothing, so it appends nothing.
    assert_eq!(
        given::<Shop>(&events, ShopCommand::ReplaceSettings(draft())),
        Ok(vec![])
    );
}

#[test]
fn lists_left_out_hold_the_default_alone() {
    let mut d = draft();
    d.accepted_currencies = None;
    d.locales = None;
    d.order_number_format = None;
    let events = given::<Shop>(&[], ShopCommand::ReplaceSettings(d)).unwrap();
    let ShopEvent::StoreSettingsChanged { settings, .. } = &events[0];
    assert_eq!(
        settings.accepted_currencies,
        vec![Currency::parse("EUR").unwrap()]
    );
    assert_eq!(settings.locales.len(), 1);
    assert_eq!(
        settings.order_number_format.as_str(),
        StoreSettings::default().order_number_format.as_str()
    );
}

/// A change to a draft that breaks one field.
type Change = fn(&mut SettingsDraft);

#[test]
fn every_bad_field_is_refused_by_name() {
    let cases: Vec<(Change, &str)> = vec![
        (|d| d.name = " ".into(), "name"),
        (|d| d.name = "a\nb".into(), "name"),
        (|d| d.default_currency = "eur".into(), "default_currency"),
        (|d| d.default_currency = "EURO".into(), "default_currency"),
        (
            |d| d.accepted_currencies = Some(vec!["USD".into()]),
            "accepted_currencies",
        ),
        (
            |d| d.accepted_currencies = Some(vec![]),
            "accepted_currencies",
        ),
        (
            |d| d.accepted_currencies = Some(vec!["EUR".into(), "US".into()]),
            "accepted_currencies[1]",
        ),
        (
            |d| d.accepted_currencies = Some(vec!["EUR".into(), "EUR".into()]),
            "accepted_currencies[1]",
        ),
        (|d| d.default_locale = "english".into(), "default_locale"),
        (|d| d.locales = Some(vec!["en".into()]), "locales"),
        (
            |d| d.locales = Some(vec!["de-DE".into(), "x".into()]),
            "locales[1]",
        ),
        (
            |d| d.order_number_format = Some("CS-{yyyy}".into()),
            "order_number_format",
        ),
    ];
    for (change, field) in cases {
        let mut d = draft();
        change(&mut d);
        let refused = given::<Shop>(&[], ShopCommand::ReplaceSettings(d)).unwrap_err();
        assert_eq!(field_of(refused), field);
    }
}

#[test]
fn a_config_key_takes_only_values_of_its_type_and_range() {
    let set = |key: &str, value: serde_json::Value| ConfigCommand::SetValue {
        key: key.into(),
        value,
    };
    assert_eq!(
        given::<Configuration>(&[], set("no.such.key", json!(true))),
        Err(ConfigError::UnknownKey("no.such.key".into()))
    );
    for (key, value) in [
        ("reviews.enabled", json!("yes")),
        ("reviews.enabled", json!(1)),
        ("catalog.default_page_size", json!(0)),
        ("catalog.default_page_size", json!(101)),
        ("catalog.default_page_size", json!(2.5)),
        ("catalog.default_page_size", json!("20")),
        ("storefront.theme", json!("sepia")),
        ("storefront.announcement", json!("two\nlines")),
        ("storefront.announcement", json!("x".repeat(501))),
    ] {
        assert!(
            matches!(
                given::<Configuration>(&[], set(key, value.clone())),
                Err(ConfigError::InvalidValue(_))
            ),
            "{key} = {value}"
        );
    }
    let events = given::<Configuration>(&[], set("catalog.default_page_size", json!(48))).unwrap();
    assert_eq!(
        events,
        vec![ConfigEvent::ConfigValueSet {
            key: "catalog.default_page_size".into(),
            value: ConfigValue::Int(48),
            previous: ConfigValue::Int(20),
        }]
    );
    // Setting what the key holds (or its default, never set) appends nothing.
    assert_eq!(
        given::<Configuration>(&events, set("catalog.default_page_size", json!(48))),
        Ok(vec![])
    );
    assert_eq!(
        given::<Configuration>(&[], set("reviews.enabled", json!(false))),
        Ok(vec![])
    );
    let state = events
        .iter()
        .fold(Default::default(), Configuration::evolve);
    assert_eq!(
        state.value(known("catalog.default_page_size").unwrap()),
        ConfigValue::Int(48)
    );
    assert_eq!(
        state.value(known("storefront.theme").unwrap()),
        ConfigValue::Text("auto".into())
    );
}

fn url(label: &str, url: &str) -> MenuItem {
    MenuItem {
        label: label.into(),
        link: Link::Url { url: url.into() },
        children: vec![],
    }
}

fn replace(items: Vec<MenuItem>) -> NavigationCommand {
    NavigationCommand::ReplaceMenu {
        menu: MenuName::Header,
        items,
    }
}

fn refused_at(items: Vec<MenuItem>) -> String {
    match given::<Menu>(&[], replace(items)) {
        Err(NavigationError::Invalid { field, .. }) => field,
        other => panic!("refused, got {other:?}"),
    }
}

#[test]
fn a_menu_tree_is_recorded_normalised() {
    let shoes = Uuid::new_v4();
    let items = vec![MenuItem {
        label: " Shoes ".into(),
        link: Link::Category { category_id: shoes },
        children: vec![
            url("Sale", " /sale "),
            MenuItem {
                label: "About".into(),
                link: Link::Page {
                    slug: "about-us".into(),
                },
                children: vec![],
            },
            url("Blog", "https://blog.example.com/x?y#z"),
        ],
    }];
    let events = given::<Menu>(&[], replace(items.clone())).unwrap();
    let [NavigationEvent::MenuReplaced {
        menu,
        items: recorded,
    }] = events.as_slice()
    else {
        panic!()
    };
    assert_eq!(*menu, MenuName::Header);
    assert_eq!(recorded[0].label, "Shoes");
    assert_eq!(
        recorded[0].children[0].link,
        Link::Url {
            url: "/sale".into()
        }
    );
    // The same tree again appends nothing; an empty tree empties the menu.
    assert_eq!(given::<Menu>(&events, replace(items)), Ok(vec![]));
    assert_eq!(given::<Menu>(&events, replace(vec![])).unwrap().len(), 1);
}

#[test]
fn a_bad_node_is_named_by_its_path() {
    for bad in [
        "javascript:alert(1)",
        "//evil.example",
        "ftp://x",
        "http://",
        "mailto:a@b.c",
        "/a b",
        "",
    ] {
        let tree = vec![
            url("ok", "/"),
            MenuItem {
                label: "x".into(),
                link: Link::Url { url: "/".into() },
                children: vec![url("bad", bad)],
            },
        ];
        assert_eq!(refused_at(tree), "items[1].children[0].link.url", "{bad:?}");
    }
    assert_eq!(refused_at(vec![url(" ", "/")]), "items[0].label");
    let page = MenuItem {
        label: "p".into(),
        link: Link::Page {
            slug: "Not A Slug".into(),
        },
        children: vec![],
    };
    assert_eq!(refused_at(vec![page]), "items[0].link.slug");

    // MAX_DEPTH levels are fine; one more is refused at the node that goes too deep.
    let mut deep = url("leaf", "/");
    for _ in 1..MAX_DEPTH {
        deep = MenuItem {
            label: "level".into(),
            link: Link::Url { url: "/".into() },
            children: vec![deep],
        };
    }
    assert!(given::<Menu>(&[], replace(vec![deep.clone()])).is_ok());
    let too_deep = MenuItem {
        label: "top".into(),
        link: Link::Url { url: "/".into() },
        children: vec![deep],
    };
    assert_eq!(
        refused_at(vec![too_deep]),
        "items[0].children[0].children[0].children[0]"
    );

    let full: Vec<MenuItem> = (0..MAX_ITEMS).map(|i| url(&format!("i{i}"), "/")).collect();
    assert!(given::<Menu>(&[], replace(full.clone())).is_ok());
    let mut over = full;
    over.push(url("one more", "/"));
    assert_eq!(refused_at(over), format!("items[{MAX_ITEMS}]"));
}

#[test]
fn menus_are_named_and_links_listed_with_their_paths() {
    assert_eq!("footer".parse::<MenuName>(), Ok(MenuName::Footer));
    assert!(matches!(
        "sidebar".parse::<MenuName>(),
        Err(NavigationError::UnknownMenu(_))
    ));
    let p = Uuid::new_v4();
    let tree = vec![MenuItem {
        label: "a".into(),
        link: Link::Url { url: "/".into() },
        children: vec![MenuItem {
            label: "b".into(),
            link: Link::Product { product_id: p },
            children: vec![],
        }],
    }];
    let links = domain::navigation::links(&tree);
    assert_eq!(
        links[1],
        (
            "items[0].children[0].link".to_owned(),
            &Link::Product { product_id: p }
        )
    );
}
