//! Analysts' read-only SQL over the read models (`POST /api/v1/admin/sql`, the console's
//! `/admin/sql`): one query, in a read-only transaction, under a statement timeout, with a
//! row cap, as `ANALYST_DATABASE_URL`'s role.
//!
//! The boundary is that role, not the text of the query: it may read the read models'
//! schemas and nothing else (no credentials, no event store, no sessions), and it is not
//! a superuser, so it cannot `SET ROLE` to one either (a superuser's session could, from
//! inside any query). The engine grants it `USAGE` and `SELECT` on each read model's
//! schema when they are missing, which is also how a schema swapped in by a rebuild gets
//! them back. The query runs wrapped (`select row_to_json(t) from (<query>) t(c1, ..)
//! limit <cap + 1>`), which admits one statement that returns rows, and makes every
//! column's value text without this code knowing its type.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Executor, PgPool};
use utoipa::ToSchema;

use crate::config::Config;
use crate::error::ApiError;
use crate::startup::error::StartupError;
use crate::state::AppState;

/// Who may run SQL over the read models: analysts, and admins.
pub const SQL_READERS: &[domain::user::Role] =
    &[domain::user::Role::Analyst, domain::user::Role::Admin];

/// Rows an answer holds at most; past it, `truncated` says there were more.
pub const ROW_CAP: usize = 1_000;
/// How long the query may run.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest query text accepted.
const MAX_SQL: usize = 10_000;

/// The analysts' pool, when `ANALYST_DATABASE_URL` is set: connected on first use, so a
/// wrong role shows on the SQL page rather than stopping the engine.
pub fn analyst_pool(config: &Config) -> Result<Option<PgPool>, StartupError> {
    let Some(url) = &config.analyst_database_url else {
        return Ok(None);
    };
    commands::database::pool_options()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy(url.expose())
        .map(Some)
        .map_err(|e| StartupError::Database {
            database: crate::config::where_url_points(url.expose()),
            cause: format!("ANALYST_DATABASE_URL: {e}"),
        })
}

/// `POST /api/v1/admin/sql`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlBody {
    /// One query that returns rows (`select`, `with`, `values`, `table`), at most 10,000
    /// characters, over the read models' schemas (`orders.orders`, `catalog.products`, …;
    /// `schemas/read-models.md` describes them).
    pub sql: String,
}

/// A query's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SqlAnswer {
    /// The columns' names, in order.
    pub columns: Vec<String>,
    /// Each row's values as text (JSON for arrays and objects), `null` for SQL null.
    pub rows: Vec<Vec<Option<String>>>,
    /// Whether the query had more rows than `row_cap`.
    pub truncated: bool,
    pub row_cap: usize,
    pub elapsed_ms: f64,
}

impl SqlAnswer {
    /// The answer as CSV (RFC 4180): a header line, then the rows; null is an empty field.
    pub fn csv(&self) -> String {
        fn field(text: &str) -> String {
            if text.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", text.replace('"', "\"\""))
            } else {
                text.to_owned()
            }
        }
        let mut out = String::new();
        let line = |cells: Vec<String>| cells.join(",") + "\r\n";
        out.push_str(&line(self.columns.iter().map(|c| field(c)).collect()));
        for row in &self.rows {
            out.push_str(&line(
                row.iter()
                    .map(|v| v.as_deref().map(field).unwrap_or_default())
                    .collect(),
            ));
        }
        out
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The read models' schemas.
fn schemas() -> Vec<String> {
    let mut all: Vec<String> = projections::all()
        .iter()
        .map(|p| p.schema().to_owned())
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Grants the analysts' role what it lacks on the read models' schemas, after checking it
/// is no superuser.
async fn ensure_grants(state: &AppState, role: &str) -> Result<(), ApiError> {
    let schemas = schemas();
    let (exists, superuser, missing): (bool, bool, i64) = sqlx::query_as(
        "select exists (select 1 from pg_roles where rolname = $1),
                coalesce((select rolsuper or rolbypassrls from pg_roles where rolname = $1), false),
                (select count(*) from pg_namespace n
                  where n.nspname = any($2)
                    and exists (select 1 from pg_roles where rolname = $1)
                    and (not has_schema_privilege($1, n.oid, 'usage')
                         or exists (select 1 from pg_tables t
                                     where t.schemaname = n.nspname
                                       and not has_table_privilege($1,
                                           format('%I.%I', t.schemaname, t.tablename),
                                           'select'))))",
    )
    .bind(role)
    .bind(&schemas)
    .fetch_one(&state.pool)
    .await?;
    if !exists || superuser {
        return Err(ApiError::ServiceUnavailable {
            code: "sql_not_configured",
            detail: format!(
                "ANALYST_DATABASE_URL's role {role:?} {}: the SQL page needs a role that may \
                 log in and nothing more",
                if exists {
                    "is a superuser or bypasses row security"
                } else {
                    "does not exist"
                }
            ),
        });
    }
    if missing == 0 {
        return Ok(());
    }
    let mut tx = state.pool.begin().await?;
    // Two grants on one object at once fail ("tuple concurrently updated").
    sqlx::query("select pg_advisory_xact_lock(hashtext('analyst grants'))")
        .execute(&mut *tx)
        .await?;
    for schema in &schemas {
        let exists: bool =
            sqlx::query_scalar("select exists (select 1 from pg_namespace where nspname = $1)")
                .bind(schema)
                .fetch_one(&mut *tx)
                .await?;
        if !exists {
            continue;
        }
        // Names from code (schemas) and from the operator's URL (the role), quoted.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "grant usage on schema {s} to {r}; ",
            s = quote_ident(schema),
            r = quote_ident(role)
        )))
        .execute(&mut *tx)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "grant select on all tables in schema {s} to {r}",
            s = quote_ident(schema),
            r = quote_ident(role)
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A refusal of the query by PostgreSQL, in its words.
fn refused(e: sqlx::Error) -> ApiError {
    match &e {
        sqlx::Error::Database(db) => {
            let (code, detail) = match db.code().as_deref() {
                Some("57014") => (
                    "sql_timeout",
                    format!(
                        "the query ran longer than {} s and was cancelled",
                        STATEMENT_TIMEOUT.as_secs()
                    ),
                ),
                Some("42501") => (
                    "sql_forbidden",
                    format!(
                        "{} (only the read models' schemas may be read)",
                        db.message()
                    ),
                ),
                Some("25006") => (
                    "sql_forbidden",
                    "the query tried to write; this is read-only".into(),
                ),
                _ => ("sql_error", db.message().to_owned()),
            };
            ApiError::UnprocessableEntity {
                code,
                detail: detail.clone(),
                errors: vec![crate::error::FieldError::new("sql", detail)],
            }
        }
        _ => ApiError::from(e),
    }
}

/// Runs `sql` as the analysts' role: 503 `sql_not_configured` without
/// `ANALYST_DATABASE_URL`; 422 `sql_error`, `sql_forbidden` or `sql_timeout` for a query
/// PostgreSQL refuses, cancels, or that returns no rows.
pub async fn run(state: &AppState, sql: &str) -> Result<SqlAnswer, ApiError> {
    let Some(pool) = &state.analysts else {
        return Err(ApiError::ServiceUnavailable {
            code: "sql_not_configured",
            detail: "the SQL page is off: set ANALYST_DATABASE_URL to a role that may only \
                     log in"
                .into(),
        });
    };
    let sql = sql.trim().trim_end_matches(';').trim_end();
    if sql.is_empty() || sql.chars().count() > MAX_SQL {
        return Err(ApiError::invalid_field(
            "sql",
            "one query, 1 to 10,000 characters",
        ));
    }
    let role = pool.connect_options().get_username().to_owned();
    ensure_grants(state, &role).await?;
    let started = Instant::now();
    let mut tx = pool
        .begin()
        .await
        .map_err(|e| ApiError::unavailable("sql_unavailable", e))?;
    sqlx::query("set transaction read only")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "select set_config('statement_timeout', $1, true), set_config('search_path', $2, true)",
    )
    .bind(format!("{}ms", STATEMENT_TIMEOUT.as_millis()))
    .bind(
        schemas()
            .iter()
            .map(|s| quote_ident(s))
            .collect::<Vec<_>>()
            .join(", "),
    )
    .execute(&mut *tx)
    .await?;
    let described = (&mut *tx)
        .describe(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(
            sql.to_owned(),
        )))
        .await
        .map_err(refused)?;
    let columns: Vec<String> = described
        .columns()
        .iter()
        .map(|c| sqlx::Column::name(c).to_owned())
        .collect();
    if columns.is_empty() {
        return Err(ApiError::UnprocessableEntity {
            code: "sql_error",
            detail: "the statement returns no rows: only a query is run here".into(),
            errors: vec![crate::error::FieldError::new(
                "sql",
                "not a query that returns rows",
            )],
        });
    }
    let aliases: Vec<String> = (1..=columns.len()).map(|i| format!("c{i}")).collect();
    // The newline ends a `--` comment the query may end with.
    let wrapped = format!(
        "select row_to_json(t)::text from ({sql}\n) as t({}) limit {}",
        aliases.join(", "),
        ROW_CAP + 1
    );
    let found: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(wrapped))
        .fetch_all(&mut *tx)
        .await
        .map_err(refused)?;
    tx.rollback().await?;
    let truncated = found.len() > ROW_CAP;
    let rows = found
        .iter()
        .take(ROW_CAP)
        .map(|text| {
            let row: serde_json::Map<String, Value> =
                serde_json::from_str(text).map_err(ApiError::internal)?;
            Ok(aliases
                .iter()
                .map(|a| match row.get(a) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(other) => Some(other.to_string()),
                })
                .collect())
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(SqlAnswer {
        columns,
        rows,
        truncated,
        row_cap: ROW_CAP,
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}
