//! The store's settings: one aggregate in one stream ([`STORE_SETTINGS_ID`]). Staff replace
//! the whole document at once; `decide` checks every field and records the new document
//! with the names of the fields that changed, so the audit trail reads as a diff.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::locale::Locale;
use super::order_number::OrderNumberFormat;
use crate::aggregate::{Aggregate, Upcast};
use crate::money::Currency;
use crate::value::{line, Address};

/// The id of the one settings stream (`shop-<id>`).
pub const STORE_SETTINGS_ID: Uuid = Uuid::from_u128(0x5e7_0000_0000_0000_0000_0000_0000_0001);
/// The longest store name.
pub const MAX_STORE_NAME: usize = 200;
/// The most currencies a store accepts, and the most locales it offers.
pub const MAX_CURRENCIES: usize = 20;
pub const MAX_LOCALES: usize = 20;

/// The store's settings as the log records them: every value checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoreSettings {
    pub name: String,
    pub default_currency: Currency,
    /// Always holds `default_currency`; no repeats, in the order staff gave.
    pub accepted_currencies: Vec<Currency>,
    pub default_locale: Locale,
    /// Always holds `default_locale`; no repeats, in the order staff gave.
    pub locales: Vec<Locale>,
    /// The store's own (business) address; not a person's.
    pub address: Option<Address>,
    /// Whether storefronts show prices with tax included. A display choice only: how tax
    /// is charged is the tax table's `prices_include_tax`.
    pub tax_inclusive_display: bool,
    pub order_number_format: OrderNumberFormat,
}

impl Default for StoreSettings {
    /// What a store answers before staff set anything.
    fn default() -> Self {
        let locale = Locale::parse("en-US").unwrap_or_else(|_| unreachable!("a valid tag"));
        StoreSettings {
            name: "UltraMarket".into(),
            default_currency: Currency::USD,
            accepted_currencies: vec![Currency::USD],
            default_locale: locale.clone(),
            locales: vec![locale],
            address: None,
            tax_inclusive_display: false,
            order_number_format: OrderNumberFormat::default(),
        }
    }
}

/// The settings as staff send them, not yet checked. Lists left out default to the one
/// default value; a format left out is the default format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsDraft {
    pub name: String,
    pub default_currency: String,
    pub accepted_currencies: Option<Vec<String>>,
    pub default_locale: String,
    pub locales: Option<Vec<String>>,
    pub address: Option<Address>,
    pub tax_inclusive_display: bool,
    pub order_number_format: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A field the rules refuse, named by its path in the body (`accepted_currencies[2]`).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A list of codes checked by `parse`, without repeats, holding `default`: a list without
/// the default is refused rather than silently completed, so staff see what they sent.
fn checked_list<T: PartialEq + Clone>(
    field: &str,
    raw: Option<&[String]>,
    default: &T,
    max: usize,
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
) -> Result<Vec<T>, SettingsError> {
    let Some(raw) = raw else {
        return Ok(vec![default.clone()]);
    };
    if raw.is_empty() || raw.len() > max {
        return Err(invalid(field, format!("must list 1 to {max} {what}")));
    }
    let mut out: Vec<T> = Vec::with_capacity(raw.len());
    for (i, code) in raw.iter().enumerate() {
        let value = parse(code)
            .ok_or_else(|| invalid(format!("{field}[{i}]"), format!("not a valid {what} code")))?;
        if out.contains(&value) {
            return Err(invalid(format!("{field}[{i}]"), "listed twice"));
        }
        out.push(value);
    }
    if !out.contains(default) {
        return Err(invalid(field, format!("must include the default {what}")));
    }
    Ok(out)
}

/// Checks every field of `draft`; the first fault found is named.
pub fn checked_settings(draft: &SettingsDraft) -> Result<StoreSettings, SettingsError> {
    let name = line("name", &draft.name, MAX_STORE_NAME).map_err(|e| invalid("name", e.message))?;
    if name.is_empty() {
        return Err(invalid(
            "name",
            format!("must be 1 to {MAX_STORE_NAME} characters"),
        ));
    }
    let currency = |code: &str| Currency::parse(code.trim()).ok();
    let default_currency = currency(&draft.default_currency).ok_or_else(|| {
        invalid(
            "default_currency",
            "must be an ISO 4217 code of three upper-case letters, such as USD",
        )
    })?;
    let accepted_currencies = checked_list(
        "accepted_currencies",
        draft.accepted_currencies.as_deref(),
        &default_currency,
        MAX_CURRENCIES,
        currency,
        "currency",
    )?;
    let locale = |tag: &str| Locale::parse(tag).ok();
    let default_locale = Locale::parse(&draft.default_locale)
        .map_err(|e| invalid("default_locale", e.to_string()))?;
    let locales = checked_list(
        "locales",
        draft.locales.as_deref(),
        &default_locale,
        MAX_LOCALES,
        locale,
        "locale",
    )?;
    let order_number_format = match &draft.order_number_format {
        None => OrderNumberFormat::default(),
        Some(t) => {
            OrderNumberFormat::parse(t.trim()).map_err(|e| invalid("order_number_format", e.0))?
        }
    };
    Ok(StoreSettings {
        name,
        default_currency,
        accepted_currencies,
        default_locale,
        locales,
        address: draft.address.clone(),
        tax_inclusive_display: draft.tax_inclusive_display,
        order_number_format,
    })
}

/// The names of the fields in which `a` and `b` differ, in the document's order.
fn changed_fields(a: &StoreSettings, b: &StoreSettings) -> Vec<String> {
    let mut out = Vec::new();
    let mut differs = |name: &str, differ: bool| {
        if differ {
            out.push(name.to_owned());
        }
    };
    differs("name", a.name != b.name);
    differs("default_currency", a.default_currency != b.default_currency);
    differs(
        "accepted_currencies",
        a.accepted_currencies != b.accepted_currencies,
    );
    differs("default_locale", a.default_locale != b.default_locale);
    differs("locales", a.locales != b.locales);
    differs("address", a.address != b.address);
    differs(
        "tax_inclusive_display",
        a.tax_inclusive_display != b.tax_inclusive_display,
    );
    differs(
        "order_number_format",
        a.order_number_format != b.order_number_format,
    );
    out
}

pub struct Shop;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShopCommand {
    /// Replaces the whole settings document.
    ReplaceSettings(SettingsDraft),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ShopEvent {
    StoreSettingsChanged {
        settings: StoreSettings,
        /// The fields that differ from the settings before, by name.
        changed: Vec<String>,
    },
}

crate::domain_event!(ShopEvent {
    StoreSettingsChanged
});
impl Upcast for ShopEvent {}

/// The settings now, and whether staff ever set them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShopState {
    pub settings: StoreSettings,
    pub changed: bool,
}

impl Aggregate for Shop {
    const CATEGORY: &'static str = "shop";
    type State = ShopState;
    type Command = ShopCommand;
    type Event = ShopEvent;
    type Error = SettingsError;

    fn decide(s: &ShopState, cmd: &ShopCommand) -> Result<Vec<ShopEvent>, SettingsError> {
        match cmd {
            ShopCommand::ReplaceSettings(draft) => {
                let settings = checked_settings(draft)?;
                let changed = changed_fields(&s.settings, &settings);
                if changed.is_empty() {
                    return Ok(vec![]);
                }
                Ok(vec![ShopEvent::StoreSettingsChanged { settings, changed }])
            }
        }
    }

    fn evolve(mut s: ShopState, event: &ShopEvent) -> ShopState {
        match event {
            ShopEvent::StoreSettingsChanged { settings, .. } => {
                s.settings = settings.clone();
                s.changed = true;
            }
        }
        s
    }
}
