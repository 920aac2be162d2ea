//! Creating a build, setting its parts and sharing it by a link.
//!
//! The share token is a capability, as the cart's is (`crate::cart::share`): whoever holds
//! it reads the build. It is handed out once and never stored: the build's `PcBuildShared`
//! event holds its SHA-256, and a `unique` stream keyed by that hash names the build, so a
//! presented token is found by hashing it. A new share changes the hash the build holds,
//! and a token whose hash the build no longer holds is unknown.

use base64::Engine;
use domain::id::{PcBuildId, UserId};
use domain::pc_builder::{BuildRecord, Component, PcBuild, PcBuildCommand};
use uuid::Uuid;

use super::error::PcBuilderError;
use super::parts::{checked_parts, outcome, BuildOutcome};
use crate::cart::share_token_hash;
use crate::cart::shopper::step;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::unique::{Kind, UniqueError};

/// Whose `unique` streams map a share token's hash to its build. Personal, like the
/// cart's: the streams' events do not list the live tokens' hashes.
pub const PC_BUILD_SHARE_KIND: Kind = Kind::personal("pc_build_share");

fn new_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn stream(build_id: Uuid) -> String {
    CommandHandler::<PcBuild>::stream_id(build_id)
}

/// Creates a build named `name` with `components` (each product checked against the
/// catalog). A user's build is theirs; an anonymous one (`owner: None`) is shared at once,
/// and its token, in the answer, is the only way back to it.
#[tracing::instrument(skip_all, err)]
pub async fn create_build(
    handlers: &Handlers,
    owner: Option<Uuid>,
    name: &str,
    components: Vec<Component>,
    meta: &CommandMeta,
) -> Result<BuildOutcome, PcBuilderError> {
    // The catalog first: a refused part leaves nothing behind, not even a claimed link.
    checked_parts(handlers, &components).await?;
    // A retried request is answered by the idempotency keys; a new id per request.
    let build_id = Uuid::new_v4();
    let token = owner.is_none().then(new_token);
    let token_hash = token.as_deref().map(share_token_hash);
    if let Some(hash) = &token_hash {
        // The key before the build: a build holding a hash no stream names would be
        // shared under a dead link.
        crate::unique::claim(
            handlers,
            PC_BUILD_SHARE_KIND,
            hash,
            build_id,
            &step(meta, "claim-share"),
        )
        .await?;
    }
    let command = PcBuildCommand::Create {
        build_id: PcBuildId::new(build_id),
        owner: owner.map(UserId::new),
        name: name.to_owned(),
        components,
        share_token_hash: token_hash.clone(),
        at: meta.occurred_at,
    };
    let handled = match handlers
        .pc_builds
        .handle(&stream(build_id), command, step(meta, "create"))
        .await
    {
        Ok(h) => h,
        Err(e) => {
            if let Some(hash) = &token_hash {
                release_share(handlers, hash, build_id, meta).await;
            }
            return Err(e.into());
        }
    };
    let build = built(handlers, build_id).await?;
    outcome(handlers, build, token, &[handled.position]).await
}

/// Replaces the parts of `user`'s build `build_id` with `components`, each checked
/// against the catalog. Another's build, or an anonymous one, is [`PcBuilderError::NotFound`].
#[tracing::instrument(skip_all, fields(%build_id), err)]
pub async fn set_components(
    handlers: &Handlers,
    user: Uuid,
    build_id: Uuid,
    components: Vec<Component>,
    meta: CommandMeta,
) -> Result<BuildOutcome, PcBuilderError> {
    // Ownership before the catalog: a stranger learns nothing about the parts.
    let (state, _) = handlers.pc_builds.load(&stream(build_id)).await?;
    if state.build.as_ref().and_then(|b| b.owner) != Some(UserId::new(user)) {
        return Err(PcBuilderError::NotFound);
    }
    checked_parts(handlers, &components).await?;
    let command = PcBuildCommand::SetComponents {
        by: UserId::new(user),
        components,
        at: meta.occurred_at,
    };
    let handled = handlers
        .pc_builds
        .handle(&stream(build_id), command, meta)
        .await?;
    let build = built(handlers, build_id).await?;
    outcome(handlers, build, None, &[handled.position]).await
}

/// Shares `user`'s build under a new token, in the answer this once; a token shared
/// before stops working.
#[tracing::instrument(skip_all, fields(%build_id), err)]
pub async fn share_build(
    handlers: &Handlers,
    user: Uuid,
    build_id: Uuid,
    meta: &CommandMeta,
) -> Result<BuildOutcome, PcBuilderError> {
    let (state, _) = handlers.pc_builds.load(&stream(build_id)).await?;
    let Some(before) = state.build.filter(|b| b.owner == Some(UserId::new(user))) else {
        return Err(PcBuilderError::NotFound);
    };
    let token = new_token();
    let token_hash = share_token_hash(&token);
    crate::unique::claim(
        handlers,
        PC_BUILD_SHARE_KIND,
        &token_hash,
        build_id,
        &step(meta, "claim-share"),
    )
    .await?;
    let command = PcBuildCommand::Share {
        by: UserId::new(user),
        token_hash,
        at: meta.occurred_at,
    };
    let handled = handlers
        .pc_builds
        .handle(&stream(build_id), command, step(meta, "share"))
        .await?;
    if let Some(old) = before.share {
        // The build no longer holds the old hash, which is what makes its token unknown;
        // releasing the key only tidies the lookup.
        release_share(handlers, &old, build_id, meta).await;
    }
    let build = built(handlers, build_id).await?;
    outcome(handlers, build, Some(token), &[handled.position]).await
}

/// The id of the build `token` shares now, if the link is live.
pub async fn shared_build(
    handlers: &Handlers,
    token: &str,
) -> Result<Option<Uuid>, PcBuilderError> {
    let token_hash = share_token_hash(token);
    let Some(build_id) = crate::unique::owner_of(handlers, PC_BUILD_SHARE_KIND, &token_hash)
        .await
        .map_err(PcBuilderError::Store)?
    else {
        return Ok(None);
    };
    let (state, _) = handlers.pc_builds.load(&stream(build_id)).await?;
    Ok(state
        .build
        .filter(|b| b.share.as_deref() == Some(token_hash.as_str()))
        .map(|_| build_id))
}

async fn built(handlers: &Handlers, build_id: Uuid) -> Result<BuildRecord, PcBuilderError> {
    let (state, _) = handlers.pc_builds.load(&stream(build_id)).await?;
    state
        .build
        .ok_or_else(|| PcBuilderError::Failed("a created build has no state".into()))
}

/// Gives a share key back; a failure is logged, not answered (the link is dead anyway:
/// the build does not hold its hash).
async fn release_share(handlers: &Handlers, hash: &str, build_id: Uuid, meta: &CommandMeta) {
    match crate::unique::release(
        handlers,
        PC_BUILD_SHARE_KIND,
        hash,
        build_id,
        &step(meta, "release-share"),
    )
    .await
    {
        Ok(()) | Err(UniqueError::NotHeld { .. }) => {}
        Err(e) => tracing::error!(error = %e, %build_id, "could not release a build's share key"),
    }
}
