//! The changing actions of the catalog's back office, each a form that is its own confirm
//! step (what will happen, the values, a required reason, the session's token), refused
//! when the console is read-only. Each calls the use case its API route calls
//! (`commands::catalog`: create, change, add an image, publish, unpublish), as the signed-in
//! staff member, with the reason in the events' metadata for the History tab; then shows
//! the product once the catalog read model has it.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use commands::catalog::{self as use_case, NewImage, NewProduct, ProductChange};
use commands::store::Position;
use domain::catalog::{Seller, Seo};
use domain::id::{CategoryId, ImageId, ProductId};
use domain::money::{Currency, Money as DomainMoney};
use domain::value::Sku;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::confirm;
use super::forms::{accepted, amount, answered, given, see_other, Confirmed};
use super::page::money;
use super::page::{html, layout, PageError};
use super::products::as_viewer;
use super::session::Signed;
use crate::auth::STAFF;
use crate::catalog::listing;
use crate::catalog::views::ProductView;
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

/// The product's page, once the catalog read model covers `position`.
pub(super) async fn shown_after(
    state: &AppState,
    id: Uuid,
    position: Option<Position>,
) -> Result<Response, ApiError> {
    crate::consistency::reached(state, "catalog", position).await?;
    Ok(see_other(&format!("/admin/products/{id}")))
}

/// What the product forms send; each form sends the fields it has.
#[derive(Debug, Default, Deserialize)]
pub struct ProductForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    currency: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    draft: Option<String>,
}

impl Confirmed for ProductForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
    fn reason(&self) -> &str {
        &self.reason
    }
}

/// The fields of a product, filled with `f`; `new` adds the SKU, currency and draft box.
async fn fields(state: &AppState, f: &ProductForm, new: bool) -> Result<Markup, ApiError> {
    let categories = crate::catalog::category_choices(&state.pool).await?;
    Ok(html! {
        @if new {
            div.field {
                label for="sku" { "SKU" }
                input #sku name="sku" type="text" value=(f.sku) required maxlength="64" autocomplete="off";
            }
        }
        div.field {
            label for="name" { "Name" }
            input #name name="name" type="text" value=(f.name) required maxlength="200";
        }
        div.field {
            label for="category_id" { "Category" }
            select #category_id name="category_id" required {
                @if categories.is_empty() { option value="" { "No category yet: create one with POST /api/v1/categories" } }
                @for (id, name, depth) in &categories {
                    @let id = id.to_string();
                    option value=(id) selected[f.category_id == id] { ("— ".repeat(*depth as usize)) (name) }
                }
            }
        }
        div.field {
            label for="price" { "Price" @if !new { " (" (f.currency) ")" } }
            input #price name="price" type="text" inputmode="decimal" value=(f.price) required placeholder="45.00";
        }
        @if new {
            div.field {
                label for="currency" { "Currency" }
                input #currency name="currency" type="text" value=(f.currency) required maxlength="3" placeholder="USD";
            }
        }
        div.field {
            label for="description" { "Description" }
            textarea #description name="description" rows="4" { (f.description) }
        }
        @if new {
            div.field.check {
                input #draft name="draft" type="checkbox" value="on" checked[f.draft.is_some()];
                label for="draft" { "Keep it a draft: off sale until published" }
            }
        }
    })
}

/// `GET /admin/products/new`
pub async fn new_form(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    crate::operations::writable(&state)?;
    let form = ProductForm {
        currency: "USD".into(),
        draft: Some("on".into()),
        ..ProductForm::default()
    };
    let body = new_page(&state, &signed, &form).await?;
    Ok(html(
        StatusCode::OK,
        layout("New product", Some(&signed.viewer()), body),
    ))
}

async fn new_page(state: &AppState, signed: &Signed, f: &ProductForm) -> Result<Markup, ApiError> {
    let what = html! { p.effect { "Creates a product. Staff's products go on sale at once unless kept a draft." } };
    let body = confirm::form_with(
        signed,
        "/admin/products/new",
        "Create the product",
        "/admin/products",
        &f.reason,
        what,
        fields(state, f, true).await?,
    );
    Ok(body)
}

/// `POST /admin/products/new`
pub async fn create(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    body: Result<Form<ProductForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let result = async {
        let reason = reason?;
        let sku =
            Sku::parse(f.sku.trim()).map_err(|e| ApiError::invalid_field("sku", e.message))?;
        let currency = Currency::parse(f.currency.trim().to_uppercase().as_str())
            .map_err(|e| ApiError::invalid_field("currency", e.to_string()))?;
        let category = Uuid::parse_str(f.category_id.trim())
            .map_err(|_| ApiError::invalid_field("category_id", "choose a category"))?;
        let new = NewProduct {
            product_id: ProductId::new(Uuid::new_v4()),
            sku,
            slug: None,
            name: f.name.trim().to_owned(),
            description: given(&f.description),
            category_id: CategoryId::new(category),
            price: DomainMoney::new(amount("price", &f.price)?, currency),
            attributes: Default::default(),
            seller: Seller::Staff,
            seo: Seo::default(),
            draft: f.draft.is_some(),
        };
        let meta = signed.command_meta(&request, &ip, &reason);
        let made = use_case::create_product(&state.handlers, new, &meta).await?;
        shown_after(&state, made.product.product_id.as_uuid(), made.position).await
    }
    .await;
    let again = match &result {
        Err(_) => Some(new_page(&state, &signed, &f).await?),
        Ok(_) => None,
    };
    answered(&signed, "New product", result, || {
        again.unwrap_or_else(|| html! {})
    })
}

/// The product as staff read it, or a 404 page.
pub(super) async fn product(
    state: &AppState,
    signed: &Signed,
    id: Uuid,
) -> Result<ProductView, ApiError> {
    listing::product(&state.pool, &id.to_string(), &as_viewer(signed)).await
}

fn filled(p: &ProductView) -> ProductForm {
    ProductForm {
        name: p.name.clone(),
        description: p.description.clone().unwrap_or_default(),
        category_id: p.category_id.to_string(),
        price: format!("{}.{:02}", p.price.amount / 100, p.price.amount % 100),
        currency: p.price.currency.clone(),
        ..ProductForm::default()
    }
}

async fn edit_page(
    state: &AppState,
    signed: &Signed,
    p: &ProductView,
    f: &ProductForm,
) -> Result<Markup, ApiError> {
    let what = html! { p.effect { "Changes " strong { (p.name) } " (" code { (p.sku) } ", now " (money(&p.price)) "): the fields you change, nothing else." } };
    let body = confirm::form_with(
        signed,
        &format!("/admin/products/{}/edit", p.id),
        "Save the changes",
        &format!("/admin/products/{}", p.id),
        &f.reason,
        what,
        fields(state, f, false).await?,
    );
    Ok(body)
}

/// `GET /admin/products/{id}/edit`
pub async fn edit_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    crate::operations::writable(&state)?;
    let p = product(&state, &signed, id).await?;
    let body = edit_page(&state, &signed, &p, &filled(&p)).await?;
    Ok(html(
        StatusCode::OK,
        layout(&format!("Edit {}", p.name), Some(&signed.viewer()), body),
    ))
}

/// `POST /admin/products/{id}/edit`: only the fields that differ are sent, so the History
/// tab shows what really changed.
pub async fn update(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    body: Result<Form<ProductForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let (mut f, reason) = accepted(&state, &signed, body)?;
    let p = product(&state, &signed, id).await?;
    f.currency = p.price.currency.clone();
    let result = async {
        let reason = reason?;
        let was = filled(&p);
        let changed =
            |now: &str, then: &str| (now.trim() != then.trim()).then(|| now.trim().to_owned());
        let price = match changed(&f.price, &was.price) {
            Some(text) => {
                let currency = Currency::parse(&p.price.currency).map_err(ApiError::internal)?;
                let amount = amount("price", &text)?;
                (amount != p.price.amount).then(|| DomainMoney::new(amount, currency))
            }
            None => None,
        };
        let category_id = match changed(&f.category_id, &was.category_id) {
            Some(c) => Some(CategoryId::new(Uuid::parse_str(&c).map_err(|_| {
                ApiError::invalid_field("category_id", "choose a category")
            })?)),
            None => None,
        };
        let change = ProductChange {
            name: changed(&f.name, &was.name),
            description: changed(&f.description, &was.description),
            category_id,
            price,
            ..ProductChange::default()
        };
        if change.name.is_none()
            && change.description.is_none()
            && change.category_id.is_none()
            && change.price.is_none()
        {
            return Err(ApiError::invalid_field("name", "nothing was changed"));
        }
        let meta = signed.command_meta(&request, &ip, &reason);
        let done = use_case::update_product(
            &state.handlers,
            ProductId::new(id),
            change,
            Seller::Staff,
            &meta,
        )
        .await?;
        shown_after(&state, id, done.position).await
    }
    .await;
    let again = match &result {
        Err(_) => Some(edit_page(&state, &signed, &p, &f).await?),
        Ok(_) => None,
    };
    answered(&signed, &format!("Edit {}", p.name), result, || {
        again.unwrap_or_else(|| html! {})
    })
}

/// What the image form sends.
#[derive(Debug, Default, Deserialize)]
pub struct ImageForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    alt: String,
}

impl Confirmed for ImageForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
    fn reason(&self) -> &str {
        &self.reason
    }
}

fn image_page(signed: &Signed, p: &ProductView, f: &ImageForm) -> Markup {
    let what = html! { p.effect { "Adds an image to " strong { (p.name) } ", after its last one. An image is an http(s) link, as the API takes it." } };
    let fields = html! {
        div.field {
            label for="url" { "Image URL" }
            input #url name="url" type="url" value=(f.url) required maxlength="2048" placeholder="https://";
        }
        div.field {
            label for="alt" { "Alternative text (what the image shows)" }
            input #alt name="alt" type="text" value=(f.alt) maxlength="500";
        }
    };
    confirm::form_with(
        signed,
        &format!("/admin/products/{}/images", p.id),
        "Add the image",
        &format!("/admin/products/{}", p.id),
        &f.reason,
        what,
        fields,
    )
}

/// `GET /admin/products/{id}/images`
pub async fn image_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    crate::operations::writable(&state)?;
    let p = product(&state, &signed, id).await?;
    let body = image_page(&signed, &p, &ImageForm::default());
    Ok(html(
        StatusCode::OK,
        layout(
            &format!("Add an image to {}", p.name),
            Some(&signed.viewer()),
            body,
        ),
    ))
}

/// `POST /admin/products/{id}/images`
pub async fn add_image(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    body: Result<Form<ImageForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let p = product(&state, &signed, id).await?;
    let result = async {
        let reason = reason?;
        let new = NewImage {
            image_id: ImageId::new(Uuid::new_v4()),
            url: f.url.trim().to_owned(),
            alt: given(&f.alt),
            position: None,
        };
        let meta = signed.command_meta(&request, &ip, &reason);
        let added = use_case::add_image(
            &state.handlers,
            ProductId::new(id),
            new,
            Seller::Staff,
            &meta,
        )
        .await?;
        shown_after(&state, id, added.position).await
    }
    .await;
    answered(
        &signed,
        &format!("Add an image to {}", p.name),
        result,
        || image_page(&signed, &p, &f),
    )
}

/// What the publish and unpublish forms send.
#[derive(Debug, Default, Deserialize)]
pub struct ReasonOnly {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
}

impl Confirmed for ReasonOnly {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
    fn reason(&self) -> &str {
        &self.reason
    }
}

fn publish_page(signed: &Signed, p: &ProductView, publish: bool, reason: &str) -> Markup {
    let (verb, effect) = if publish {
        ("publish", "Puts the product on sale: the storefront lists it, and customers can buy what is in stock.")
    } else {
        (
            "unpublish",
            "Takes the product off sale, back to a draft: the storefront no longer shows it.",
        )
    };
    let what = html! {
        dl.summary { dt { "Product" } dd { (p.name) " (" code { (p.sku) } ")" } dt { "Status" } dd { (p.status) } }
        p.effect { (effect) }
    };
    confirm::form(
        signed,
        &format!("/admin/products/{}/{verb}", p.id),
        if publish {
            "Publish the product"
        } else {
            "Unpublish the product"
        },
        &format!("/admin/products/{}", p.id),
        reason,
        what,
    )
}

fn publish_title(p: &ProductView, publish: bool) -> String {
    format!(
        "{} {}",
        if publish { "Publish" } else { "Unpublish" },
        p.name
    )
}

/// `GET /admin/products/{id}/publish`
pub async fn publish_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    publishing_form(state, signed, id, true).await
}

/// `GET /admin/products/{id}/unpublish`
pub async fn unpublish_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    publishing_form(state, signed, id, false).await
}

async fn publishing_form(
    state: AppState,
    signed: Signed,
    id: Uuid,
    publish: bool,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    crate::operations::writable(&state)?;
    let p = product(&state, &signed, id).await?;
    let body = publish_page(&signed, &p, publish, "");
    Ok(html(
        StatusCode::OK,
        layout(&publish_title(&p, publish), Some(&signed.viewer()), body),
    ))
}

/// `POST /admin/products/{id}/publish`
pub async fn publish(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    body: Result<Form<ReasonOnly>, FormRejection>,
) -> Result<Response, PageError> {
    publishing(state, signed, request, ip, id, body, true).await
}

/// `POST /admin/products/{id}/unpublish`
pub async fn unpublish(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    body: Result<Form<ReasonOnly>, FormRejection>,
) -> Result<Response, PageError> {
    publishing(state, signed, request, ip, id, body, false).await
}

async fn publishing(
    state: AppState,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    id: Uuid,
    body: Result<Form<ReasonOnly>, FormRejection>,
    publish: bool,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let p = product(&state, &signed, id).await?;
    let result = async {
        let reason = reason?;
        let meta = signed.command_meta(&request, &ip, &reason);
        let done = if publish {
            use_case::publish_product(&state.handlers, ProductId::new(id), Seller::Staff, &meta)
                .await?
        } else {
            use_case::unpublish_product(&state.handlers, ProductId::new(id), Seller::Staff, &meta)
                .await?
        };
        shown_after(&state, id, done.position).await
    }
    .await;
    answered(&signed, &publish_title(&p, publish), result, || {
        publish_page(&signed, &p, publish, &f.reason)
    })
}
