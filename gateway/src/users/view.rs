//! What the user routes answer: an account, an address, and pages of them. Each is built
//! `From` the write side's state (command answers) or a `users` read-model row (queries).

use chrono::{DateTime, Utc};
use domain::user::{Account, UserStatus};
use domain::value::Address;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// An account as the user routes show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserAccount {
    pub id: Uuid,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `customer`, `vendor`, `staff`, `admin`, `analyst` or `auditor`.
    pub role: String,
    /// `pending` (e-mail not verified), `active` or `suspended`.
    pub status: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    /// Queries only: a command's answer comes from the write side, which does not keep it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

fn status(s: UserStatus) -> &'static str {
    match s {
        UserStatus::Pending => "pending",
        UserStatus::Active => "active",
        UserStatus::Suspended => "suspended",
    }
}

impl From<&Account> for UserAccount {
    fn from(a: &Account) -> Self {
        UserAccount {
            id: a.user_id.as_uuid(),
            email: a.email.as_str().to_owned(),
            first_name: a.first_name.clone(),
            last_name: a.last_name.clone(),
            role: a.role.as_str().to_owned(),
            status: status(a.status).to_owned(),
            email_verified: a.email_verified,
            created_at: a.created_at,
            updated_at: None,
        }
    }
}

/// A row of `users.users`.
#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub user_id: Uuid,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: String,
    pub status: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns of a [`UserRow`].
pub const USER_COLUMNS: &str =
    "user_id, email, first_name, last_name, role, status, email_verified,
     created_at, updated_at";

impl From<UserRow> for UserAccount {
    fn from(r: UserRow) -> Self {
        UserAccount {
            id: r.user_id,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            role: r.role,
            status: r.status,
            email_verified: r.email_verified,
            created_at: r.created_at,
            updated_at: Some(r.updated_at),
        }
    }
}

/// Accounts, one page of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserAccount>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// One of an account's addresses.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserAddress {
    pub id: Uuid,
    pub label: Option<String>,
    pub name: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

impl UserAddress {
    /// Address `id` as a command stated it.
    pub fn new(id: Uuid, label: Option<String>, a: Address) -> Self {
        UserAddress {
            id,
            label,
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

/// A row of `users.user_addresses`.
#[derive(sqlx::FromRow)]
pub struct AddressRow {
    pub address_id: Uuid,
    pub label: Option<String>,
    pub name: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
}

impl From<AddressRow> for UserAddress {
    fn from(r: AddressRow) -> Self {
        UserAddress {
            id: r.address_id,
            label: r.label,
            name: r.name,
            line1: r.line1,
            line2: r.line2,
            city: r.city,
            region: r.region,
            postal_code: r.postal_code,
            // A `char(2)` column would pad; the answer never does.
            country: r.country.trim().to_owned(),
        }
    }
}

/// All of an account's addresses: it holds at most `MAX_ADDRESSES`, so one page always
/// holds them all.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressPage {
    pub items: Vec<UserAddress>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl From<Vec<UserAddress>> for AddressPage {
    fn from(items: Vec<UserAddress>) -> Self {
        AddressPage {
            total: items.len() as i64,
            items,
            limit: domain::user::MAX_ADDRESSES as i64,
            offset: 0,
        }
    }
}
