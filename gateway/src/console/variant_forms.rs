//! A product's variants in the back office (issue 25 item 4): add one (its SKU, name,
//! price in the product's currency, attributes and opening stock), change one (name,
//! price, attributes) and remove one, each a form that is its own confirm step (what will
//! happen, the values, a required reason, the session's token), refused when the console
//! is read-only. Each calls the use case of its API route (`commands::catalog`:
//! `create_variant`, `update_variant`, `remove_variant`) as the signed-in staff member,
//! with the reason in the events' metadata for the product's History tab; then shows the
//! product once the catalog read model has the change.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use commands::catalog::{self as use_case, NewVariant, VariantChange};
use domain::catalog::{Seller, Variant};
use domain::id::{ProductId, VariantId};
use domain::money::{Currency, Money as DomainMoney};
use domain::value::Sku;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::confirm;
use super::forms::{accepted, amount, answered, whole, Confirmed};
use super::page::{html, layout, money, PageError};
use super::product_forms::{product, shown_after};
use super::session::Signed;
use crate::auth::STAFF;
use crate::catalog::views::ProductView;
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Money;

/// The most units a new variant's opening stock takes from the form.
const MAX_OPENING_STOCK: i64 = 1_000_000;

/// What the variant forms send; each form sends the fields it has.
#[derive(Debug, Default, Deserialize)]
pub struct VariantForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    attributes: String,
    #[serde(default)]
    stock: String,
}

impl Confirmed for VariantForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
    fn reason(&self) -> &str {
        &self.reason
    }
}

/// A variant as the product's answer lists it.
#[derive(Debug, Deserialize)]
struct Listed {
    id: Uuid,
    sku: String,
    name: String,
    price: ListedPrice,
    #[serde(default)]
    attributes: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct ListedPrice {
    amount: i64,
    currency: String,
}

/// The variant `variant_id` of `p`, or a 404.
fn listed(p: &ProductView, variant_id: Uuid) -> Result<Listed, ApiError> {
    p.listing
        .as_ref()
        .and_then(|l| l.variants.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| serde_json::from_value::<Listed>(v.clone()).ok())
        .find(|v| v.id == variant_id)
        .ok_or_else(|| ApiError::NotFound("no such variant of this product".into()))
}

/// An amount as the price field shows it (`45.00`).
fn typed(amount: i64) -> String {
    format!("{}.{:02}", amount / 100, amount % 100)
}

/// Attributes as the form writes them: one `name: value` a line. A text value that would
/// read back as something else (`42`, `true`) is quoted, so an unchanged field reads back
/// the same.
fn attributes_text(map: &Map<String, Value>) -> String {
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) if serde_json::from_str::<Value>(s).is_err() => format!("{k}: {s}"),
            other => format!("{k}: {other}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The attributes typed in the form: a value that reads as JSON (`42`, `true`,
/// `"quoted"`, `[1, 2]`) is kept as such, any other is text; a 422 naming `attributes`
/// for a line without a name.
fn attributes(text: &str) -> Result<Map<String, Value>, ApiError> {
    let mut map = Map::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let bad = |why: &str| ApiError::invalid_field("attributes", format!("{line:?}: {why}"));
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("write each as name: value, one a line"))?;
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return Err(bad("a name is missing"));
        }
        let value = serde_json::from_str::<Value>(value).unwrap_or_else(|_| value.into());
        if map.insert(name.to_owned(), value).is_some() {
            return Err(bad("this name is given twice"));
        }
    }
    Ok(map)
}

/// The fields of a variant; `new` adds the SKU and the opening stock.
fn fields(p: &ProductView, f: &VariantForm, new: bool) -> Markup {
    html! {
        @if new {
            div.field {
                label for="sku" { "SKU (unique across every product and variant)" }
                input #sku name="sku" type="text" value=(f.sku) required maxlength="64" autocomplete="off";
            }
        }
        div.field {
            label for="name" { "Name" }
            input #name name="name" type="text" value=(f.name) required maxlength="200";
        }
        div.field {
            label for="price" { "Price (" (p.price.currency) ")" }
            input #price name="price" type="text" inputmode="decimal" value=(f.price) required placeholder="45.00";
        }
        div.field {
            label for="attributes" { "Attributes (one name: value a line)" }
            textarea #attributes name="attributes" rows="4" placeholder="color: red" { (f.attributes) }
        }
        @if new {
            div.field {
                label for="stock" { "Opening stock (units received into the default warehouse)" }
                input #stock name="stock" type="text" inputmode="numeric" value=(f.stock) placeholder="0";
            }
        }
    }
}

fn new_page(signed: &Signed, p: &ProductView, f: &VariantForm) -> Markup {
    let what = html! { p.effect { "Adds a variant to " strong { (p.name) } " (" code { (p.sku) } "), with a SKU of its own and its price in " (p.price.currency) "." } };
    confirm::form_with(
        signed,
        &format!("/admin/products/{}/variants/new", p.id),
        "Add the variant",
        &format!("/admin/products/{}", p.id),
        &f.reason,
        what,
        fields(p, f, true),
    )
}

fn new_title(p: &ProductView) -> String {
    format!("Add a variant to {}", p.name)
}

/// `GET /admin/products/{id}/variants/new`
pub async fn new_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    crate::operations::writable(&state)?;
    let p = product(&state, &signed, id).await?;
    let body = new_page(&signed, &p, &VariantForm::default());
    Ok(html(
        StatusCode::OK,
        layout(&new_title(&p), Some(&signed.viewer()), body),
    ))
}

/// `POST /admin/products/{id}/variants/new`
pub async fn create(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    body: Result<Form<VariantForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let p = product(&state, &signed, id).await?;
    let result = async {
        let reason = reason?;
        let sku =
            Sku::parse(f.sku.trim()).map_err(|e| ApiError::invalid_field("sku", e.message))?;
        let currency = Currency::parse(&p.price.currency).map_err(ApiError::internal)?;
        let stock = match f.stock.trim() {
            "" => 0,
            text => whole("stock", text, 0, MAX_OPENING_STOCK)?,
        };
        let new = NewVariant {
            variant: Variant {
                variant_id: VariantId::new(Uuid::new_v4()),
                sku,
                name: f.name.trim().to_owned(),
                price: DomainMoney::new(amount("price", &f.price)?, currency),
                attributes: attributes(&f.attributes)?,
            },
            stock: u32::try_from(stock).map_err(ApiError::internal)?,
        };
        let meta = signed.command_meta(&request, &ip, &reason);
        let made = use_case::create_variant(
            &state.handlers,
            ProductId::new(id),
            new,
            Seller::Staff,
            &meta,
        )
        .await?;
        shown_after(&state, id, made.position).await
    }
    .await;
    answered(&signed, &new_title(&p), result, || {
        new_page(&signed, &p, &f)
    })
}

/// Change, or remove.
#[derive(Clone, Copy, PartialEq, Eq)]
enum VariantAction {
    Edit,
    Remove,
}

impl VariantAction {
    fn of(name: &str) -> Result<VariantAction, ApiError> {
        match name {
            "edit" => Ok(VariantAction::Edit),
            "remove" => Ok(VariantAction::Remove),
            _ => Err(ApiError::NotFound(format!(
                "no variant action {name:?}: edit or remove"
            ))),
        }
    }

    fn title(self, v: &Listed) -> String {
        match self {
            VariantAction::Edit => format!("Edit the variant {}", v.sku),
            VariantAction::Remove => format!("Remove the variant {}", v.sku),
        }
    }
}

fn filled(v: &Listed) -> VariantForm {
    VariantForm {
        name: v.name.clone(),
        price: typed(v.price.amount),
        attributes: attributes_text(&v.attributes),
        ..VariantForm::default()
    }
}

fn action_page(
    signed: &Signed,
    p: &ProductView,
    v: &Listed,
    how: VariantAction,
    f: &VariantForm,
) -> Markup {
    let base = format!("/admin/products/{}/variants/{}", p.id, v.id);
    let back = format!("/admin/products/{}", p.id);
    let summary = html! {
        dl.summary {
            dt { "Product" } dd { (p.name) " (" code { (p.sku) } ")" }
            dt { "Variant" } dd { code { (v.sku) } " " (v.name) }
            dt { "Price" } dd { (money(&Money::of(v.price.amount, &v.price.currency))) }
        }
    };
    match how {
        VariantAction::Edit => {
            let what = html! { (summary) p.effect { "Changes the fields you change, nothing else. Its SKU stays." } };
            confirm::form_with(
                signed,
                &format!("{base}/edit"),
                "Save the changes",
                &back,
                &f.reason,
                what,
                fields(p, f, false),
            )
        }
        VariantAction::Remove => {
            let what = html! { (summary) p.effect { "Removes the variant; its SKU is free for another item. A variant with stock on hand or reserved is refused: adjust its stock to 0 first." } };
            confirm::form(
                signed,
                &format!("{base}/remove"),
                "Remove the variant",
                &back,
                &f.reason,
                what,
            )
        }
    }
}

/// `GET /admin/products/{id}/variants/{variant_id}/{edit|remove}`
pub async fn form(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, variant_id, how)): Path<(Uuid, Uuid, String)>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let how = VariantAction::of(&how)?;
    crate::operations::writable(&state)?;
    let p = product(&state, &signed, id).await?;
    let v = listed(&p, variant_id)?;
    let body = action_page(&signed, &p, &v, how, &filled(&v));
    Ok(html(
        StatusCode::OK,
        layout(&how.title(&v), Some(&signed.viewer()), body),
    ))
}

/// The change the edit form asks for: only the fields that differ, so the History tab
/// shows what really changed; a 422 when none does.
fn change_of(p: &ProductView, v: &Listed, f: &VariantForm) -> Result<VariantChange, ApiError> {
    let name = (f.name.trim() != v.name).then(|| f.name.trim().to_owned());
    let price = match amount("price", &f.price)? {
        same if same == v.price.amount => None,
        other => Some(DomainMoney::new(
            other,
            Currency::parse(&p.price.currency).map_err(ApiError::internal)?,
        )),
    };
    let attributes = Some(attributes(&f.attributes)?).filter(|a| *a != v.attributes);
    if name.is_none() && price.is_none() && attributes.is_none() {
        return Err(ApiError::invalid_field("name", "nothing was changed"));
    }
    Ok(VariantChange {
        name,
        price,
        attributes,
    })
}

/// `POST /admin/products/{id}/variants/{variant_id}/{edit|remove}`
pub async fn act(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path((id, variant_id, how)): Path<(Uuid, Uuid, String)>,
    body: Result<Form<VariantForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let how = VariantAction::of(&how)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let p = product(&state, &signed, id).await?;
    let v = listed(&p, variant_id)?;
    let result = async {
        let reason = reason?;
        let meta = signed.command_meta(&request, &ip, &reason);
        let (product_id, variant) = (ProductId::new(id), VariantId::new(variant_id));
        let position = match how {
            VariantAction::Edit => {
                let change = change_of(&p, &v, &f)?;
                use_case::update_variant(
                    &state.handlers,
                    product_id,
                    variant,
                    change,
                    Seller::Staff,
                    &meta,
                )
                .await?
                .position
            }
            VariantAction::Remove => {
                use_case::remove_variant(&state.handlers, product_id, variant, Seller::Staff, &meta)
                    .await?
            }
        };
        shown_after(&state, id, position).await
    }
    .await;
    answered(&signed, &how.title(&v), result, || {
        action_page(&signed, &p, &v, how, &f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_read_back_as_they_were_written() {
        let map = attributes("color: red\n\n size : 42 \nlit: true\ncode: \"007\"").unwrap();
        assert_eq!(
            Value::Object(map.clone()),
            json!({ "color": "red", "size": 42, "lit": true, "code": "007" })
        );
        assert_eq!(attributes(&attributes_text(&map)).unwrap(), map);
        let text: Map<String, Value> = json!({ "size": "42" }).as_object().unwrap().clone();
        assert_eq!(attributes_text(&text), "size: \"42\"");
        assert_eq!(attributes(&attributes_text(&text)).unwrap(), text);
        for bad in ["no colon here", ": red", "a: 1\na: 2"] {
            assert!(attributes(bad).is_err(), "{bad:?}");
        }
        assert_eq!(typed(4_505), "45.05");
    }
}
