//! Given / when / then for the catalog's administration (issue 21): publication states,
//! variants as first-class parts of a product, a canonical slug that keeps the old ones,
//! SEO texts, and a category tree that refuses cycles.

mod support;

use domain::aggregate::Aggregate;
use domain::catalog::{
    CatalogError, Category, CategoryCommand, CategoryEvent, CreateProduct, Product, ProductCommand,
    ProductEvent, ProductState, ProductStatus, Seller, Seo, Variant, MAX_CATEGORY_DEPTH,
};
use domain::id::{CategoryId, ProductId, UserId, VariantId};
use domain::money::{Currency, Money};
use domain::value::{Sku, Slug};
use support::*;
use uuid::Uuid;

fn given<A: Aggregate>(commands: &[A::Command]) -> A::State
where
    A::Error: std::fmt::Debug,
{
    commands.iter().fold(A::State::default(), |s, c| {
        let events = A::decide(&s, c).expect("a given command succeeds");
        events.iter().fold(s, A::evolve)
    })
}

fn create(seller: Seller, seo: Seo) -> ProductCommand {
    ProductCommand::Create(Box::new(CreateProduct {
        product_id: ProductId::new(Uuid::from_u128(70)),
        sku: Sku::parse("LAMP-1").unwrap(),
        name: "Lamp".into(),
        slug: Slug::parse("lamp").unwrap(),
        description: None,
        category_id: CategoryId::new(Uuid::from_u128(50)),
        price: usd(4999),
        attributes: serde_json::Map::new(),
        vendor_id: seller.vendor(),
        publish: seller.publishes(),
        seo,
        at: at(),
    }))
}

fn vendor() -> Seller {
    Seller::Vendor(UserId::new(Uuid::from_u128(10)))
}

fn status(s: &ProductState) -> ProductStatus {
    s.created.as_ref().unwrap().status
}

fn variant(n: u128, sku: &str) -> Variant {
    Variant {
        variant_id: VariantId::new(Uuid::from_u128(n)),
        sku: Sku::parse(sku).unwrap(),
        name: format!("variant {n}"),
        price: usd(5999),
        attributes: serde_json::Map::new(),
    }
}

/// A vendor's publish submits the draft for review; staff's publish approves it; unpublish
/// takes it off sale; an archived product stays archived.
#[test]
fn a_vendors_draft_waits_for_review_and_staff_publish_it() {
    let draft = create(vendor(), Seo::default());
    let s = given::<Product>(&[draft.clone(), vendor().publish(at())]);
    assert_eq!(status(&s), ProductStatus::PendingReview);
    assert_eq!(
        Product::decide(&s, &vendor().publish(at())),
        Ok(vec![]),
        "submitting again changes nothing"
    );
    let s = given::<Product>(&[
        draft.clone(),
        vendor().publish(at()),
        Seller::Staff.publish(at()),
    ]);
    assert_eq!(status(&s), ProductStatus::Active);
    assert_eq!(
        Product::decide(&s, &vendor().publish(at())),
        Ok(vec![]),
        "on sale already: nothing to review"
    );
    // Staff publish a draft that was never submitted, too.
    let s = given::<Product>(&[draft.clone(), Seller::Staff.publish(at())]);
    assert_eq!(status(&s), ProductStatus::Active);
}

#[test]
fn unpublishing_takes_a_product_off_sale_back_to_a_draft() {
    let s = given::<Product>(&[
        create(Seller::Staff, Seo::default()),
        ProductCommand::Unpublish { at: at() },
    ]);
    assert_eq!(status(&s), ProductStatus::Draft);
    assert_eq!(
        Product::decide(&s, &ProductCommand::Unpublish { at: at() }),
        Ok(vec![])
    );
    // Out of review too.
    let s = given::<Product>(&[
        create(vendor(), Seo::default()),
        vendor().publish(at()),
        ProductCommand::Unpublish { at: at() },
    ]);
    assert_eq!(status(&s), ProductStatus::Draft);
    let archived = given::<Product>(&[
        create(Seller::Staff, Seo::default()),
        ProductCommand::Archive { at: at() },
    ]);
    for c in [
        ProductCommand::Unpublish { at: at() },
        vendor().publish(at()),
        Seller::Staff.publish(at()),
    ] {
        assert_eq!(Product::decide(&archived, &c), Err(CatalogError::Archived));
    }
}

#[test]
fn variants_are_updated_and_removed_by_id_in_the_products_currency() {
    let s = given::<Product>(&[
        create(Seller::Staff, Seo::default()),
        ProductCommand::AddVariant(variant(1, "LAMP-1-RED")),
    ]);
    let eur = Money::new(10, Currency::parse("EUR").unwrap());
    let mut foreign = variant(2, "LAMP-1-BLUE");
    foreign.price = eur;
    assert!(matches!(
        Product::decide(&s, &ProductCommand::AddVariant(foreign)),
        Err(CatalogError::Invalid {
            field: "price.currency",
            ..
        })
    ));
    let update = |n: u128, price: Money| ProductCommand::UpdateVariant {
        variant_id: VariantId::new(Uuid::from_u128(n)),
        name: Some("Red".into()),
        price: Some(price),
        attributes: None,
        at: at(),
    };
    assert_eq!(
        Product::decide(&s, &update(9, usd(1))),
        Err(CatalogError::UnknownVariant(VariantId::new(
            Uuid::from_u128(9)
        )))
    );
    assert!(matches!(
        Product::decide(&s, &update(1, eur)),
        Err(CatalogError::Invalid {
            field: "price.currency",
            ..
        })
    ));
    assert!(matches!(
        Product::decide(&s, &update(1, usd(-1))),
        Err(CatalogError::Invalid { .. })
    ));
    let s = given::<Product>(&[
        create(Seller::Staff, Seo::default()),
        ProductCommand::AddVariant(variant(1, "LAMP-1-RED")),
        update(1, usd(6999)),
    ]);
    let v = &s.created.as_ref().unwrap().variants[0];
    assert_eq!((v.name.as_str(), v.price), ("Red", usd(6999)));
    assert_eq!(
        Product::decide(&s, &update(1, usd(6999))),
        Ok(vec![]),
        "the same values change nothing"
    );

    let remove = ProductCommand::RemoveVariant {
        variant_id: VariantId::new(Uuid::from_u128(1)),
        at: at(),
    };
    let events = Product::decide(&s, &remove).unwrap();
    assert!(matches!(
        &events[..],
        [ProductEvent::VariantRemoved { sku, .. }] if sku.as_str() == "LAMP-1-RED"
    ));
    let s = events.iter().fold(s, Product::evolve);
    assert!(s.created.as_ref().unwrap().variants.is_empty());
    assert!(matches!(
        Product::decide(&s, &remove),
        Err(CatalogError::UnknownVariant(_))
    ));
}

/// A changed slug keeps the old one as the product's own; going back to an old slug takes
/// it out of the old ones.
#[test]
fn a_new_slug_keeps_the_old_ones() {
    let slug = |s: &str| ProductCommand::ChangeSlug {
        slug: Slug::parse(s).unwrap(),
        at: at(),
    };
    let s = given::<Product>(&[
        create(Seller::Staff, Seo::default()),
        slug("desk-lamp"),
        slug("reading-lamp"),
    ]);
    let p = s.created.as_ref().unwrap();
    assert_eq!(p.slug.as_str(), "reading-lamp");
    let old: Vec<&str> = p.old_slugs.iter().map(Slug::as_str).collect();
    assert_eq!(old, ["lamp", "desk-lamp"]);
    assert_eq!(Product::decide(&s, &slug("reading-lamp")), Ok(vec![]));
    let s = given::<Product>(&[
        create(Seller::Staff, Seo::default()),
        slug("desk-lamp"),
        slug("lamp"),
    ]);
    let p = s.created.as_ref().unwrap();
    let old: Vec<&str> = p.old_slugs.iter().map(Slug::as_str).collect();
    assert_eq!((p.slug.as_str(), old), ("lamp", vec!["desk-lamp"]));
}

#[test]
fn seo_texts_are_set_on_create_changed_and_cleared() {
    let seo = Seo {
        meta_title: Some(" The lamp ".into()),
        meta_description: None,
    };
    let events = Product::decide(&ProductState::default(), &create(Seller::Staff, seo)).unwrap();
    let types: Vec<&str> = events
        .iter()
        .map(|e| domain::aggregate::DomainEvent::event_type(e))
        .collect();
    assert_eq!(
        types,
        ["ProductCreated", "ProductPublished", "ProductSeoChanged"],
        "the publish stays next to the creation"
    );
    let s = events.iter().fold(ProductState::default(), Product::evolve);
    assert_eq!(
        s.created.as_ref().unwrap().seo.meta_title.as_deref(),
        Some("The lamp")
    );
    let change = |t: Option<&str>, d: Option<&str>| ProductCommand::ChangeSeo {
        meta_title: t.map(Into::into),
        meta_description: d.map(Into::into),
        at: at(),
    };
    let s2 = given::<Product>(&[
        create(Seller::Staff, Seo::default()),
        change(None, Some("Bright.")),
    ]);
    let p = s2.created.as_ref().unwrap();
    assert_eq!(
        (
            p.seo.meta_title.as_deref(),
            p.seo.meta_description.as_deref()
        ),
        (None, Some("Bright."))
    );
    let cleared = given::<Product>(&[
        create(Seller::Staff, Seo::default()),
        change(Some("A"), Some("B")),
        change(Some(" "), None),
    ]);
    let p = cleared.created.as_ref().unwrap();
    assert_eq!(
        (
            p.seo.meta_title.as_deref(),
            p.seo.meta_description.as_deref()
        ),
        (None, Some("B"))
    );
    assert!(matches!(
        Product::decide(&s, &change(Some("two\nlines"), None)),
        Err(CatalogError::Invalid {
            field: "meta_title",
            ..
        })
    ));
    assert_eq!(
        Product::decide(&s, &change(Some("The lamp"), None)),
        Ok(vec![])
    );
}

fn category(n: u128) -> CategoryId {
    CategoryId::new(Uuid::from_u128(n))
}

fn created(n: u128, parent: Option<u128>) -> CategoryCommand {
    CategoryCommand::Create {
        category_id: category(n),
        name: format!("Category {n}"),
        slug: Slug::parse(&format!("category-{n}")).unwrap(),
        parent_id: parent.map(category),
    }
}

/// The use case walks the new parent's ancestors; the category refuses to move under
/// itself or any of them that is its own descendant, and a tree deeper than the bound.
#[test]
fn a_category_refuses_to_move_under_its_own_descendant() {
    // 1 ─ 2 ─ 3: moving 1 under 3 would make a loop.
    let one = given::<Category>(&[created(1, None)]);
    let under_three = CategoryCommand::Move {
        parent_id: Some(category(3)),
        ancestors: vec![category(3), category(2), category(1)],
    };
    assert_eq!(
        Category::decide(&one, &under_three),
        Err(CatalogError::Cycle(category(3)))
    );
    assert_eq!(
        Category::decide(
            &one,
            &CategoryCommand::Move {
                parent_id: Some(category(1)),
                ancestors: vec![category(1)],
            }
        ),
        Err(CatalogError::OwnParent)
    );
    // 3 under 1's sibling 4 is fine; to the root too.
    let three = given::<Category>(&[created(3, Some(2))]);
    let to_four = CategoryCommand::Move {
        parent_id: Some(category(4)),
        ancestors: vec![category(4)],
    };
    assert_eq!(
        Category::decide(&three, &to_four),
        Ok(vec![CategoryEvent::CategoryMoved {
            parent_id: Some(category(4))
        }])
    );
    let root = CategoryCommand::Move {
        parent_id: None,
        ancestors: vec![],
    };
    assert_eq!(
        Category::decide(&three, &root),
        Ok(vec![CategoryEvent::CategoryMoved { parent_id: None }])
    );
    let deep = CategoryCommand::Move {
        parent_id: Some(category(100)),
        ancestors: (100..100 + MAX_CATEGORY_DEPTH as u128)
            .map(category)
            .collect(),
    };
    assert_eq!(Category::decide(&three, &deep), Err(CatalogError::TooDeep));
    // Where it is already: nothing happens.
    let same = CategoryCommand::Move {
        parent_id: Some(category(2)),
        ancestors: vec![category(2)],
    };
    assert_eq!(Category::decide(&three, &same), Ok(vec![]));
}

#[test]
fn a_category_changes_its_slug() {
    let s = given::<Category>(&[
        created(1, None),
        CategoryCommand::ChangeSlug {
            slug: Slug::parse("lamps").unwrap(),
        },
    ]);
    assert_eq!(s.slug.as_ref().map(Slug::as_str), Some("lamps"));
    assert_eq!(
        Category::decide(
            &s,
            &CategoryCommand::ChangeSlug {
                slug: Slug::parse("lamps").unwrap()
            }
        ),
        Ok(vec![])
    );
}
