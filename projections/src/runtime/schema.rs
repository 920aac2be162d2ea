//! Schema management: a read model's schema and tables created from its DDL, and whether
//! the tables still match the code's DDL (a read model made from other DDL is rebuilt).

use commands::store::Position;
use sqlx::{PgConnection, PgPool};

use super::projection::{Projection, ProjectionError};
use crate::checkpoint;

/// `name` as a quoted SQL identifier. Schema names come from code, never from input;
/// quoted all the same.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) async fn set_search_path(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "set local search_path to {}",
        quote_ident(schema)
    )))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What [`ensure_schema`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    /// The schema was missing and has been created empty, checkpoint at the start.
    Created,
    /// Tables match the projection's DDL.
    Current,
    /// Tables were made from other DDL: the read model must be rebuilt.
    Outdated,
}

/// Creates the projection's schema and tables if they do not exist.
pub async fn ensure_schema(
    pool: &PgPool,
    projection: &dyn Projection,
) -> Result<SchemaState, ProjectionError> {
    let name = projection.name();
    let schema = projection.schema();
    let mut tx = pool.begin().await?;
    checkpoint::lock(&mut tx, name).await?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_namespace where nspname = $1)")
            .bind(schema)
            .fetch_one(&mut *tx)
            .await?;
    let state = if exists {
        let same: Option<bool> = sqlx::query_scalar(
            "select tables_md5 is not distinct from md5($2) from projections.checkpoints
              where projection = $1",
        )
        .bind(name)
        .bind(projection.tables())
        .fetch_optional(&mut *tx)
        .await?;
        if same.unwrap_or(true) {
            SchemaState::Current
        } else {
            SchemaState::Outdated
        }
    } else {
        create_tables(&mut tx, schema, projection.tables()).await?;
        checkpoint::set(&mut tx, name, Position::START, 0, projection.tables(), None).await?;
        SchemaState::Created
    };
    tx.commit().await?;
    Ok(state)
}

pub(crate) async fn create_tables(
    conn: &mut PgConnection,
    schema: &str,
    ddl: &'static str,
) -> Result<(), ProjectionError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create schema \"{}\"",
        schema.replace('"', "\"\"")
    )))
    .execute(&mut *conn)
    .await?;
    set_search_path(conn, schema).await?;
    // A bare string runs over the simple query protocol, which takes several statements.
    sqlx::Executor::execute(&mut *conn, ddl)
        .await
        .map_err(|e| ProjectionError::Setup(schema.to_owned(), format!("tables DDL: {e}")))?;
    sqlx::query("set local search_path to default")
        .execute(&mut *conn)
        .await?;
    Ok(())
}
