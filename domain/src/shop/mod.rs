//! The shop: the store's own settings (name, currencies, locales, address, how prices are
//! shown, the order-number format), one aggregate in one stream. Named `shop` on every
//! floor because `store` is the event store's name in `commands`.
//!
//! - [`settings`]: the [`Shop`] aggregate and [`StoreSettings`], checked by
//!   [`checked_settings`].
//! - [`locale`]: [`Locale`], a BCP 47 tag of the shape storefronts use.
//! - [`order_number`]: [`OrderNumberFormat`], a template such as `UM-{yyyy}-{seq:6}`, and
//!   its pure `render`.

pub mod locale;
pub mod order_number;
pub mod settings;

pub use locale::{BadLocale, Locale};
pub use order_number::{BadTemplate, OrderNumberFormat, DEFAULT_ORDER_NUMBER_FORMAT};
pub use settings::{
    checked_settings, SettingsDraft, SettingsError, Shop, ShopCommand, ShopEvent, ShopState,
    StoreSettings, STORE_SETTINGS_ID,
};
