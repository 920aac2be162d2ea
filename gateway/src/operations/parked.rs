//! Parked events and what staff do with them, over `projections::runtime::parked`: the
//! list, and the retry, skip or discard of one, each audited in the action's transaction.

use commands::store::{AllRead, EventFilter, Position, RecordedEvent};
use domain::user::Role;
use projections::runtime::parked::{self as store, Action, Actor, Outcome, Parked};
use projections::ProjectionError;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::guard::{self, writable};
use super::views::{ParkedActionView, ParkedOutcome, ParkedView};
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::Page;

/// `GET /api/v1/admin/parked`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ParkedQuery {
    /// Parked by this read model (`catalog`).
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub projection: Option<String>,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    /// Default 0.
    pub offset: Option<i64>,
}

/// Why staff act: recorded with the action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// 1 to 500 characters.
    pub reason: String,
}

/// One page of parked events, oldest first.
pub async fn list(state: &AppState, q: &ParkedQuery) -> Result<Page<ParkedView>, ApiError> {
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    let (items, total) = store::list(&state.pool, q.projection.as_deref(), limit, offset).await?;
    Ok(Page {
        items: items.into_iter().map(ParkedView::from).collect(),
        limit,
        offset,
        total,
    })
}

/// One page of the actions taken on parked events, newest first.
pub async fn actions(
    state: &AppState,
    limit: Option<i64>,
    offset: Option<i64>,
) -> Result<Page<ParkedActionView>, ApiError> {
    let (limit, offset) = ApiError::page(limit, offset)?;
    let (items, total) = store::actions(&state.pool, limit, offset).await?;
    Ok(Page {
        items: items.into_iter().map(ParkedActionView::from).collect(),
        limit,
        offset,
        total,
    })
}

/// The parked event `id`, or a 404.
pub async fn find(state: &AppState, id: Uuid) -> Result<Parked, ApiError> {
    store::find(&state.pool, id).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "no parked event {id}: acted on already, or never parked"
        ))
    })
}

/// Who acts on a parked event, and why.
pub struct Acting {
    pub user_id: Uuid,
    pub role: Role,
    /// The request's correlation id.
    pub correlation_id: Uuid,
}

/// Retries, skips or discards the parked event `id`: refused when the console is
/// read-only; a retry the read model refuses again is a 409 `retry_failed`, recorded
/// like any other outcome.
pub async fn act(
    state: &AppState,
    by: Acting,
    id: Uuid,
    action: Action,
    reason: &str,
) -> Result<ParkedOutcome, ApiError> {
    writable(state)?;
    let reason = guard::reason(reason)?;
    let actor = Actor {
        user_id: Some(by.user_id),
        role: by.role.as_str().to_owned(),
        reason: reason.to_owned(),
        correlation_id: Some(by.correlation_id),
    };
    let parked = find(state, id).await?;
    let gone = || {
        ApiError::NotFound(format!(
            "the event {id} is no longer parked: someone acted on it first"
        ))
    };
    let outcome = match action {
        Action::Retry => {
            let Some(projection) = projections::by_name(&parked.projection) else {
                return Err(ApiError::conflict(
                    "rebuild_in_progress",
                    format!(
                        "{} parked it while rebuilding or verifying; act on it when that has ended",
                        parked.projection
                    ),
                ));
            };
            let event = event_of(state, &parked).await?;
            store::retry(&state.pool, &*projection, id, &event, &actor)
                .await
                .map_err(projection_error)?
                .ok_or_else(gone)?
        }
        Action::Skip | Action::Discard => store::set_aside(&state.pool, id, action, &actor)
            .await
            .map_err(projection_error)?
            .ok_or_else(gone)?,
    };
    tracing::info!(
        parked_id = %id, projection = %parked.projection, event_id = %parked.event_id,
        action = action.as_str(), outcome = outcome.as_str(), actor = %by.user_id,
        "parked event acted on"
    );
    if let Outcome::Failed(error) = &outcome {
        return Err(ApiError::conflict(
            "retry_failed",
            format!(
                "{} refused the event again, and it stays parked: {error}",
                parked.projection
            ),
        ));
    }
    Ok(ParkedOutcome::of(id, action.as_str(), &outcome))
}

/// The parked event as the store holds it, with its personal data opened as the read
/// models see it (ADR 0005).
async fn event_of(state: &AppState, parked: &Parked) -> Result<RecordedEvent, ApiError> {
    // The event itself is the newest of its type before the position just after it, which
    // the store answers from its index rather than by a scan.
    let at = parked.position();
    let filter = EventFilter {
        event_type: Some(parked.event_type.clone()),
        ..EventFilter::default()
    };
    let before = Position::new(at.commit, at.prepare.saturating_add(1));
    let mut found = state
        .store
        .read_all_filtered(
            &filter,
            AllRead::Backwards {
                before: Some(before),
            },
            1,
        )
        .await?;
    found.retain(|e| e.id == parked.event_id);
    if found.is_empty() {
        return Err(ApiError::internal(format!(
            "the parked event {} is not at {at} in the store",
            parked.event_id
        )));
    }
    commands::privacy::open_events(&state.handlers.keys, &mut found)
        .await
        .map_err(ApiError::internal)?;
    Ok(found.remove(0))
}

fn projection_error(e: ProjectionError) -> ApiError {
    match e {
        ProjectionError::Store(e) => e.into(),
        ProjectionError::Database(e) => e.into(),
        other => ApiError::internal(other),
    }
}
