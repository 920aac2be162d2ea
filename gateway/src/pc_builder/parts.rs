//! `/pc-builder`: the rule set as data, and the parts on sale that fit a build so far.
//!
//! The compatible parts of a slot are one indexed read of the `pc_builder` read model
//! (every part on sale in the slot, by name) filtered by the pure `fits` of
//! `domain::pc_builder`, then paged: the rules stay in one place, and a slot holds a few
//! hundred parts, not millions, so filtering in the gateway costs less than keeping a
//! table of every pair that fits in step with every change of the catalog.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use domain::id::ProductId;
use domain::pc_builder::{
    assemble, attributes_read, default_rules, fits, Part, Slot, SLOT_ATTRIBUTE,
};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::read_model;
use super::views::{attributes_of, components_of, PartView, RulesView, SlotView};
use crate::auth::viewer::Viewer;
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::views::Page;

/// The store's compatibility rules, as data: each rule with the attributes it compares,
/// and per slot the attributes a part must carry to be checked.
#[utoipa::path(
    get,
    path = "/api/v1/pc-builder/rules",
    tag = "pc-builder",
    responses((status = 200, description = "The rule set", body = RulesView))
)]
pub async fn rules() -> Json<RulesView> {
    let rules = default_rules();
    let read = attributes_read(&rules);
    Json(RulesView {
        rules: rules
            .iter()
            .filter_map(|r| serde_json::to_value(r).ok())
            .collect(),
        slot_attribute: SLOT_ATTRIBUTE.into(),
        slots: Slot::ALL
            .iter()
            .map(|s| SlotView {
                attributes: read
                    .get(s)
                    .map(|a| a.iter().cloned().collect())
                    .unwrap_or_default(),
                capacity: s.capacity(),
                slot: s.as_str().into(),
            })
            .collect(),
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompatibleQuery {
    /// The slot to fill: `cpu`, `motherboard`, `memory`, `gpu`, `storage`, `psu`, `case`
    /// or `cooler`.
    slot: Option<String>,
    /// One of the caller's builds (with a bearer token): only the parts that fit it.
    build: Option<Uuid>,
    /// Or a build's share token: only the parts that fit the shared build.
    token: Option<String>,
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// The parts on sale in a slot that fit the build so far (a part fits unless a rule
/// finds an error naming it; a memory stick or a drive joins the ones chosen, any other
/// part replaces the slot's), by name. Without a build, every part on sale in the slot.
#[utoipa::path(
    get,
    path = "/api/v1/pc-builder/compatible",
    tag = "pc-builder",
    params(CompatibleQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the pc_builder read model covers this command position")),
    responses(
        (status = 200, description = "A page of the parts that fit", body = Page<PartView>),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, description = "A bearer token was sent and is not valid, or `build` was named without one", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such build of the caller's, or no live link has the token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `limit` or `offset`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
pub async fn compatible_parts(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Query(q): Query<CompatibleQuery>,
) -> Result<Json<Page<PartView>>, ApiError> {
    let slot = q
        .slot
        .as_deref()
        .map(str::trim)
        .and_then(Slot::parse)
        .ok_or_else(|| {
            ApiError::invalid_query(
                "slot",
                "one of cpu, motherboard, memory, gpu, storage, psu, case, cooler",
            )
        })?;
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    if q.build.is_some() && q.token.is_some() {
        return Err(ApiError::invalid_query(
            "token",
            "name a build by `build` or by `token`, not both",
        ));
    }
    let build_id = match (q.build, q.token.as_deref()) {
        (Some(id), _) => {
            let Some(user) = viewer.0.as_ref() else {
                return Err(ApiError::Unauthorized(
                    "sign in to name one of your builds, or send its share `token`".into(),
                ));
            };
            caught_up(&state, &headers, "pc_builder").await?;
            read_model::build(&state.pool, id)
                .await?
                .filter(|b| b.owner_id == Some(user.user_id))
                .ok_or_else(|| ApiError::NotFound("no such build".into()))?;
            Some(id)
        }
        (None, Some(token)) => {
            let id = commands::pc_builder::shared_build(&state.handlers, token)
                .await?
                .ok_or_else(|| ApiError::NotFound("no build is shared under this token".into()))?;
            caught_up(&state, &headers, "pc_builder").await?;
            Some(id)
        }
        (None, None) => {
            caught_up(&state, &headers, "pc_builder").await?;
            None
        }
    };
    let build = match build_id {
        Some(id) => {
            let rows = read_model::components(&state.pool, &[id]).await?;
            let rows: Vec<&read_model::ComponentRow> = rows.iter().collect();
            let attributes = attributes_of(&rows);
            assemble(&components_of(&rows), |p| attributes.get(&p).cloned())
        }
        None => Default::default(),
    };
    let rules = default_rules();
    let fitting: Vec<read_model::PartRow> = read_model::parts_in_slot(&state.pool, slot.as_str())
        .await?
        .into_iter()
        .filter(|p| {
            let candidate = Part {
                product_id: ProductId::new(p.product_id),
                attributes: p.attributes.0.clone(),
            };
            fits(&rules, &build, slot, &candidate)
        })
        .collect();
    let total = i64::try_from(fitting.len()).unwrap_or(i64::MAX);
    let items = fitting
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(PartView::from)
        .collect();
    Ok(Json(Page {
        items,
        limit,
        offset,
        total,
    }))
}
