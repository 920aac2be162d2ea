//! What a person consents to ([`Preferences`]) and who recorded the choice
//! ([`ConsentSource`]). Every change is an event with its time and source, which is what a
//! regulator asks to see. Nothing is consented to until the person says so.

use serde::{Deserialize, Serialize};

/// The person's consents; all off until given.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Preferences {
    /// Marketing e-mail (newsletters, offers). Order and account e-mail is not marketing.
    pub marketing_email: bool,
    /// Marketing text messages.
    pub sms: bool,
    /// Recommendations chosen from what the person viewed and bought.
    pub personalised_recommendations: bool,
    /// Recording the person's browsing behaviour for analytics.
    pub analytics_tracking: bool,
}

/// Who recorded a change of consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    /// The person, in their account.
    User,
    /// An admin, on the person's behalf (a request by mail or phone, say).
    Admin,
}
