//! Accounts in the back office (issue 25 item 4), for admins as their API is:
//! `/admin/customers`, a page of accounts searched by e-mail, role and status (the query of
//! `GET /api/v1/users`); `/admin/customers/{id}`, one account (`GET /api/v1/users/{id}`)
//! with its History tab folded from its events; and the confirm steps of suspending it
//! (`DELETE /api/v1/users/{id}`) and changing its role (`PUT /api/v1/users/{id}`), refused
//! when the console is read-only, and of reinstating a suspended one
//! (`POST /api/v1/users/{id}/reactivate`).

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use commands::accounts;
use commands::handler::CommandHandler;
use commands::store::{Direction, ReadFrom};
use domain::user::{Role, User, UserState};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::confirm;
use super::forms::{accepted, answered, see_other, Confirmed};
use super::history::{self, MAX_EVENTS};
use super::links::{stream as stream_link, with_query};
use super::page::{at, html, layout, shown, PageError};
use super::session::Signed;
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::users::{search, user_row, UserAccount, UsersQuery, ADMINS};

const PAGE: i64 = 25;
const ROLES: &[&str] = &["customer", "vendor", "staff", "admin", "analyst", "auditor"];
const STATUSES: &[&str] = &["pending", "active", "suspended"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomersQuery {
    email: Option<String>,
    role: Option<String>,
    status: Option<String>,
    offset: Option<i64>,
}

fn blank_none(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `GET /admin/customers`
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<CustomersQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(ADMINS)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let (email, role, status) = (
        blank_none(&q.email),
        blank_none(&q.role),
        blank_none(&q.status),
    );
    let query = UsersQuery {
        email: email.clone(),
        role: role.clone(),
        status: status.clone(),
        limit: Some(PAGE),
        offset: Some(q.offset.unwrap_or(0).max(0)),
        sort: None,
    };
    let (code, answer) = shown(search(&state.pool, &query).await)?;
    let link = |offset: i64| {
        with_query(
            "/admin/customers",
            &[
                ("email", email.as_deref()),
                ("role", role.as_deref()),
                ("status", status.as_deref()),
                ("offset", Some(&offset.to_string())),
            ],
        )
    };
    let body = html! {
        form.filters method="get" action="/admin/customers" role="search" {
            div.field {
                label for="email" { "E-mail contains" }
                input #email name="email" type="search" value=[email.as_deref()] autocomplete="off";
            }
            div.field {
                label for="role" { "Role" }
                select #role name="role" {
                    option value="" { "Any" }
                    @for r in ROLES { option value=(r) selected[role.as_deref() == Some(*r)] { (r) } }
                }
            }
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" { "Any" }
                    @for s in STATUSES { option value=(s) selected[status.as_deref() == Some(*s)] { (s) } }
                }
            }
            button type="submit" { "Show" }
        }
        @match &answer {
            Err(refusal) => (refusal),
            Ok(page) if page.items.is_empty() => p #empty { "No account matches." },
            Ok(page) => {
                p #count { (page.total) " accounts" }
                table #customers {
                    caption { "Newest first" }
                    thead { tr {
                        th scope="col" { "E-mail" } th scope="col" { "Name" } th scope="col" { "Role" }
                        th scope="col" { "Status" } th scope="col" { "Since (UTC)" }
                    } }
                    tbody {
                        @for u in &page.items {
                            tr {
                                td { a.customer href=(format!("/admin/customers/{}", u.id)) { (u.email) } }
                                td { (name(u)) }
                                td.role { (u.role) }
                                td.status { (u.status) }
                                td { (at(u.created_at)) }
                            }
                        }
                    }
                }
                nav.pager aria-label="Pages" {
                    @if page.offset > 0 { a #prev rel="prev" href=(link((page.offset - page.limit).max(0))) { "← Newer" } }
                    @if page.offset + page.limit < page.total { a #next rel="next" href=(link(page.offset + page.limit)) { "Older →" } }
                }
            }
        }
    };
    Ok(html(
        code,
        layout("Customers", Some(&signed.viewer()), body),
    ))
}

fn name(u: &UserAccount) -> String {
    [u.first_name.as_deref(), u.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn account(state: &AppState, id: Uuid) -> Result<UserAccount, ApiError> {
    user_row(&state.pool, id)
        .await?
        .map(UserAccount::from)
        .ok_or_else(|| ApiError::NotFound("no such user".into()))
}

/// The account as its History tab diffs it: what the API shows of it.
fn account_view(s: &UserState) -> Option<Value> {
    s.registered.as_ref().map(|a| {
        let shown = UserAccount::from(a);
        json!({
            "email": shown.email,
            "first_name": shown.first_name,
            "last_name": shown.last_name,
            "role": shown.role,
            "status": shown.status,
            "email_verified": shown.email_verified,
            "addresses": a.addresses.len(),
        })
    })
}

/// `GET /admin/customers/{id}`
pub async fn one(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(ADMINS)?;
    let u = account(&state, id).await?;
    let stream = CommandHandler::<User>::stream_id(id);
    // Through the handlers' store, which opens the personal fields it sealed (ADR 0005).
    let events = state
        .handlers
        .store
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, MAX_EVENTS)
        .await?;
    let changes = history::changes::<User>(&events, account_view)?;
    let writable = !state.config.console_read_only;
    let body = html! {
        (confirm::read_only_notice(&state))
        dl.summary {
            dt { "Name" } dd { (name(&u)) }
            dt { "Role" } dd #role { (u.role) }
            dt { "Status" } dd #status { (u.status) }
            dt { "E-mail verified" } dd { (if u.email_verified { "yes" } else { "no" }) }
            dt { "Since" } dd { (at(u.created_at)) }
            dt { "Events" } dd { a.stream href=(stream_link(&stream)) { (stream) } }
        }
        @if writable && u.status != "erased" {
            nav.actions aria-label="Actions" {
                a #change-role href=(format!("/admin/customers/{id}/role")) { "Change role…" }
                @if u.status == "suspended" {
                    a #reinstate href=(format!("/admin/customers/{id}/reinstate")) { "Reinstate…" }
                } @else if id != signed.user_id {
                    a #suspend href=(format!("/admin/customers/{id}/suspend")) { "Suspend…" }
                }
            }
        }
        (history::tab(&changes, events.len() >= MAX_EVENTS))
    };
    Ok(html(
        StatusCode::OK,
        layout(&u.email, Some(&signed.viewer()), body),
    ))
}

/// What the account forms send.
#[derive(Debug, Default, Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    role: String,
}

impl Confirmed for AccountForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
    fn reason(&self) -> &str {
        &self.reason
    }
}

/// Suspend, reinstate, or change the role.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AccountAction {
    Suspend,
    Reinstate,
    Role,
}

impl AccountAction {
    fn title(self) -> &'static str {
        match self {
            AccountAction::Suspend => "Suspend the account",
            AccountAction::Reinstate => "Reinstate the account",
            AccountAction::Role => "Change the role",
        }
    }

    fn of(name: &str) -> Result<AccountAction, ApiError> {
        match name {
            "suspend" => Ok(AccountAction::Suspend),
            "reinstate" => Ok(AccountAction::Reinstate),
            "role" => Ok(AccountAction::Role),
            _ => Err(ApiError::NotFound(format!(
                "no account action {name:?}: suspend, reinstate or role"
            ))),
        }
    }
}

fn page(signed: &Signed, u: &UserAccount, how: AccountAction, f: &AccountForm) -> Markup {
    let what = html! {
        dl.summary {
            dt { "Account" } dd { (u.email) }
            dt { "Role" } dd { (u.role) }
            dt { "Status" } dd { (u.status) }
        }
        p.effect {
            @match how {
                AccountAction::Suspend => "Suspends the account: it can no longer sign in, and its sessions end at once. Its history stays.",
                AccountAction::Reinstate => "Reinstates the account: it can sign in again. The sessions its suspension ended stay ended.",
                AccountAction::Role => "Gives the account another role: what it may do changes, and its sessions end at once.",
            }
        }
    };
    let fields = match how {
        AccountAction::Suspend | AccountAction::Reinstate => html! {},
        AccountAction::Role => html! {
            div.field {
                label for="new-role" { "New role" }
                select #new-role name="role" required {
                    @for r in ROLES {
                        option value=(r) selected[(if f.role.is_empty() { &u.role } else { &f.role }) == r] { (r) }
                    }
                }
            }
        },
    };
    let (label, path) = match how {
        AccountAction::Suspend => ("Suspend", "suspend"),
        AccountAction::Reinstate => ("Reinstate", "reinstate"),
        AccountAction::Role => ("Change the role", "role"),
    };
    confirm::form_with(
        signed,
        &format!("/admin/customers/{}/{path}", u.id),
        label,
        &format!("/admin/customers/{}", u.id),
        &f.reason,
        what,
        fields,
    )
}

/// `GET /admin/customers/{id}/{suspend|reinstate|role}`
pub async fn form(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, how)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    signed.require(ADMINS)?;
    let how = AccountAction::of(&how)?;
    crate::operations::writable(&state)?;
    let u = account(&state, id).await?;
    let body = page(&signed, &u, how, &AccountForm::default());
    Ok(html(
        StatusCode::OK,
        layout(how.title(), Some(&signed.viewer()), body),
    ))
}

/// `POST /admin/customers/{id}/{suspend|reinstate|role}`
pub async fn act(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path((id, how)): Path<(Uuid, String)>,
    body: Result<Form<AccountForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(ADMINS)?;
    let how = AccountAction::of(&how)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let u = account(&state, id).await?;
    let result = async {
        let reason = reason?;
        let meta = signed.command_meta(&request, &ip, &reason);
        let position = match how {
            AccountAction::Suspend => {
                if id == signed.user_id {
                    return Err(ApiError::conflict(
                        "self_suspension",
                        "an admin cannot suspend their own account",
                    ));
                }
                accounts::suspend(&state.handlers, id, Some(reason.clone()), meta).await?
            }
            AccountAction::Reinstate => accounts::reactivate(&state.handlers, id, meta).await?,
            AccountAction::Role => {
                let role =
                    serde_json::from_value::<Role>(Value::from(f.role.trim())).map_err(|_| {
                        ApiError::invalid_field(
                            "role",
                            "one of customer, vendor, staff, admin, analyst, auditor",
                        )
                    })?;
                accounts::update_user(&state.handlers, id, None, Some(role), meta)
                    .await?
                    .position
            }
        };
        state.stamps.forget(id);
        crate::consistency::reached(&state, "users", position).await?;
        Ok(see_other(&format!("/admin/customers/{id}")))
    }
    .await;
    answered(&signed, how.title(), result, || page(&signed, &u, how, &f))
}
