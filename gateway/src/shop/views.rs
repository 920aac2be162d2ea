//! The store's settings as the API answers and takes them.

use chrono::Utc;
use domain::shop::{SettingsDraft, ShopState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::views::Address;

/// The store's settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreView {
    /// ISO 4217 codes; always holds `default_currency`.
    pub accepted_currencies: Vec<String>,
    /// The store's business address; null when not set.
    pub address: Option<Address>,
    /// ISO 4217, e.g. `USD`.
    pub default_currency: String,
    /// A BCP 47 tag, e.g. `en-US`.
    pub default_locale: String,
    /// BCP 47 tags; always holds `default_locale`.
    pub locales: Vec<String>,
    pub name: String,
    /// The order-number template (staff only; absent for everyone else).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number_format: Option<String>,
    /// The number the template gives the first order placed today (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number_example: Option<String>,
    /// Whether storefronts show prices with tax included. How tax is charged is
    /// `GET /tax-settings` (`prices_include_tax`); see docs/api.md § Store.
    pub tax_inclusive_display: bool,
    /// False until staff first set the settings (these are the defaults).
    pub configured: bool,
}

impl StoreView {
    /// The settings as `staff` (or not) see them.
    pub fn of(state: &ShopState, staff: bool) -> Self {
        let s = &state.settings;
        StoreView {
            accepted_currencies: s
                .accepted_currencies
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            address: s.address.clone().map(Address::from),
            default_currency: s.default_currency.as_str().to_owned(),
            default_locale: s.default_locale.as_str().to_owned(),
            locales: s.locales.iter().map(|l| l.as_str().to_owned()).collect(),
            name: s.name.clone(),
            order_number_format: staff.then(|| s.order_number_format.as_str().to_owned()),
            order_number_example: staff
                .then(|| s.order_number_format.render(Utc::now().date_naive(), 1)),
            tax_inclusive_display: s.tax_inclusive_display,
            configured: state.changed,
        }
    }
}

/// The whole settings document: it replaces the one the store has. Optional fields left
/// out (or null) take their defaults; they do not keep an earlier value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreBody {
    /// 1 to 200 characters, one line.
    pub name: String,
    /// ISO 4217, three upper-case letters.
    pub default_currency: String,
    /// 1 to 20 ISO 4217 codes, no repeats, holding `default_currency`; absent:
    /// `[default_currency]`.
    pub accepted_currencies: Option<Vec<String>>,
    /// A BCP 47 tag: `language[-Script][-REGION]` (`en`, `en-US`, `zh-Hant-TW`, `es-419`).
    pub default_locale: String,
    /// 1 to 20 tags, no repeats, holding `default_locale`; absent: `[default_locale]`.
    pub locales: Option<Vec<String>>,
    /// The store's address; absent or null: none.
    pub address: Option<Address>,
    /// Default false.
    #[serde(default)]
    pub tax_inclusive_display: bool,
    /// A template of letters, digits, `-_/.#` and `{yyyy}`, `{yy}`, `{mm}`, `{dd}`, `{seq}`
    /// or `{seq:N}` (N 1 to 12), with exactly one `{seq}`; at most 64 characters. Absent:
    /// `UM-{yyyy}-{seq:6}`.
    pub order_number_format: Option<String>,
}

impl StoreBody {
    /// The draft the rules check; the address goes through the domain's own checks, its
    /// faults named under `address.`.
    pub fn into_draft(self) -> Result<SettingsDraft, ApiError> {
        let address = match self.address {
            None => None,
            Some(a) => {
                let fields = serde_json::to_value(&a).map_err(ApiError::internal)?;
                Some(serde_json::from_value(fields).map_err(|e| {
                    let text = e.to_string();
                    match text.split_once(": ") {
                        Some((field, message)) if !field.contains(' ') => {
                            ApiError::invalid_field(format!("address.{field}"), message.to_owned())
                        }
                        _ => ApiError::invalid_field("address", text),
                    }
                })?)
            }
        };
        Ok(SettingsDraft {
            name: self.name,
            default_currency: self.default_currency,
            accepted_currencies: self.accepted_currencies,
            default_locale: self.default_locale,
            locales: self.locales,
            address,
            tax_inclusive_display: self.tax_inclusive_display,
            order_number_format: self.order_number_format,
        })
    }
}
