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
        UserStatus::Erased => "erased",
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

/// The read model's row of account `id`, if it has one.
pub async fn user_row(pool: &sqlx::PgPool, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {USER_COLUMNS} from users.users where user_id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Every address of account `id`, oldest first.
pub async fn address_rows(pool: &sqlx::PgPool, id: Uuid) -> Result<Vec<AddressRow>, sqlx::Error> {
    sqlx::query_as(
        "select address_id, label, name, line1, line2, city, region, postal_code, country
           from users.user_addresses where user_id = $1 order by created_at, address_id",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

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

#[cfg(test)]
mod tests {
    //! The views answer the shapes `docs/api.md` and the earlier `json!` bodies fixed: the same
    //! fields, `null` where a value is missing, and `updated_at` only from the read model.

    use std::collections::BTreeMap;

    use chrono::{DateTime, Utc};
    use domain::user::{Account, Role, UserStatus};
    use domain::value::Email;
    use serde_json::{json, Value};
    use uuid::Uuid;

    use super::{AddressPage, AddressRow, UserAccount, UserAddress, UserRow};

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn an_account_from_the_write_side_has_no_updated_at() {
        let id = Uuid::from_u128(7);
        let account = Account {
            user_id: id.into(),
            email: Email::parse("ann@example.com").unwrap(),
            credential: Uuid::from_u128(8).into(),
            first_name: Some("Ann".into()),
            last_name: None,
            role: Role::Vendor,
            status: UserStatus::Pending,
            email_verified: false,
            addresses: BTreeMap::new(),
            created_at: at(),
            security_version: 0,
            preferences: Default::default(),
        };
        assert_eq!(
            serde_json::to_value(UserAccount::from(&account)).unwrap(),
            json!({
                "id": id, "email": "ann@example.com", "first_name": "Ann", "last_name": null,
                "role": "vendor", "status": "pending", "email_verified": false,
                "created_at": at(),
            })
        );
        let row = UserRow {
            user_id: id,
            email: "ann@example.com".into(),
            first_name: None,
            last_name: None,
            role: "admin".into(),
            status: "active".into(),
            email_verified: true,
            created_at: at(),
            updated_at: at(),
        };
        let shown = serde_json::to_value(UserAccount::from(row)).unwrap();
        assert_eq!(shown["updated_at"], json!(at()));
        assert_eq!(shown["first_name"], Value::Null);
    }

    #[test]
    fn addresses_show_nulls_and_a_trimmed_country_in_one_page() {
        let row = AddressRow {
            address_id: Uuid::from_u128(1),
            label: None,
            name: None,
            line1: "1 Main St".into(),
            line2: None,
            city: "Springfield".into(),
            region: None,
            postal_code: "12345".into(),
            country: "US ".into(),
        };
        let page = AddressPage::from(vec![UserAddress::from(row)]);
        assert_eq!(
            serde_json::to_value(page).unwrap(),
            json!({
                "items": [{
                    "id": Uuid::from_u128(1), "label": null, "name": null, "line1": "1 Main St",
                    "line2": null, "city": "Springfield", "region": null,
                    "postal_code": "12345", "country": "US",
                }],
                "total": 1, "limit": 20, "offset": 0,
            })
        );
    }
}
