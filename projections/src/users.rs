//! The `users` read model: `users` (e-mail, names, role, status, whether the e-mail is
//! verified), `user_addresses` and `user_preferences` (consents), from the `user` streams.
//!
//! Every statement is an upsert or an update keyed by the stream's user, so applying an
//! event twice (the runner's checkpoint prevents it, a rebuild relies on it) leaves the
//! same rows. Times the event does not carry come from its record (`event_time`), never
//! from the clock, so a replay writes the same values.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::user::{ConsentSource, UserEvent};
use domain::value::Address;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::projection::{decode, event_time, Projection, ProjectionError};

pub struct UsersProjection;

async fn touch(tx: &mut PgConnection, user_id: Uuid, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("update users set updated_at = greatest(updated_at, $2) where user_id = $1")
        .bind(user_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn upsert_address(
    tx: &mut PgConnection,
    user_id: Uuid,
    address_id: Uuid,
    label: Option<String>,
    a: &Address,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into user_addresses (user_id, address_id, label, name, line1, line2, city, region,
             postal_code, country, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
         on conflict (user_id, address_id) do update set label = excluded.label,
             name = excluded.name, line1 = excluded.line1, line2 = excluded.line2,
             city = excluded.city, region = excluded.region, postal_code = excluded.postal_code,
             country = excluded.country, updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(address_id)
    .bind(label)
    .bind(&a.name)
    .bind(&a.line1)
    .bind(&a.line2)
    .bind(&a.city)
    .bind(&a.region)
    .bind(&a.postal_code)
    .bind(&a.country)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn apply_user(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    user_id: Uuid,
) -> Result<(), ProjectionError> {
    let e = decode::<UserEvent>(event)?;
    let at = event_time(event);
    match e {
        UserEvent::UserRegistered {
            email,
            first_name,
            last_name,
            role,
            at,
            ..
        } => {
            sqlx::query(
                "insert into users (user_id, email, first_name, last_name, role, status,
                     email_verified, created_at, updated_at)
                 values ($1, $2, $3, $4, $5, 'pending', false, $6, $6)
                 on conflict (user_id) do nothing",
            )
            .bind(user_id)
            .bind(email.as_str())
            .bind(first_name)
            .bind(last_name)
            .bind(role.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        UserEvent::EmailVerified { at } => {
            // The domain's rule: verifying activates a pending account, not a suspended one.
            sqlx::query(
                "update users set email_verified = true,
                        status = case when status = 'pending' then 'active' else status end,
                        updated_at = greatest(updated_at, $2)
                  where user_id = $1",
            )
            .bind(user_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        UserEvent::PreferencesChanged {
            preferences: p,
            source,
            at,
        } => {
            sqlx::query(
                "insert into user_preferences (user_id, marketing_email, sms,
                     personalised_recommendations, analytics_tracking, source, updated_at)
                 values ($1, $2, $3, $4, $5, $6, $7)
                 on conflict (user_id) do update set
                     marketing_email = excluded.marketing_email, sms = excluded.sms,
                     personalised_recommendations = excluded.personalised_recommendations,
                     analytics_tracking = excluded.analytics_tracking,
                     source = excluded.source, updated_at = excluded.updated_at",
            )
            .bind(user_id)
            .bind(p.marketing_email)
            .bind(p.sms)
            .bind(p.personalised_recommendations)
            .bind(p.analytics_tracking)
            .bind(match source {
                ConsentSource::User => "user",
                ConsentSource::Admin => "admin",
            })
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        // Tokens, credentials and the sessions' end are not shown by any query.
        UserEvent::EmailVerificationRequested { .. }
        | UserEvent::PasswordResetRequested { .. }
        | UserEvent::SignedOutEverywhere { .. } => {}
        UserEvent::PasswordChanged { at, .. } => touch(tx, user_id, at).await?,
        UserEvent::ProfileUpdated {
            first_name,
            last_name,
            at,
        } => {
            sqlx::query(
                "update users set first_name = $2, last_name = $3,
                        updated_at = greatest(updated_at, $4)
                  where user_id = $1",
            )
            .bind(user_id)
            .bind(first_name)
            .bind(last_name)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        UserEvent::AddressAdded {
            address_id,
            label,
            address,
        }
        | UserEvent::AddressUpdated {
            address_id,
            label,
            address,
        } => {
            upsert_address(tx, user_id, address_id.as_uuid(), label, &address, at).await?;
            touch(tx, user_id, at).await?;
        }
        UserEvent::AddressRemoved { address_id } => {
            sqlx::query("delete from user_addresses where user_id = $1 and address_id = $2")
                .bind(user_id)
                .bind(address_id.as_uuid())
                .execute(&mut *tx)
                .await?;
            touch(tx, user_id, at).await?;
        }
        UserEvent::RoleChanged { to, .. } => {
            sqlx::query(
                "update users set role = $2, updated_at = greatest(updated_at, $3)
                  where user_id = $1",
            )
            .bind(user_id)
            .bind(to.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        UserEvent::UserSuspended { reason, at } => {
            sqlx::query(
                "update users set status = 'suspended', suspension_reason = $2,
                        updated_at = greatest(updated_at, $3)
                  where user_id = $1",
            )
            .bind(user_id)
            .bind(reason)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        UserEvent::UserErased { at, .. } => {
            // What a replay shows of the person once the key is gone: the declared
            // replacements, and nothing the account held apart from its numbers.
            sqlx::query(
                "update users set email = $2, first_name = null, last_name = null,
                        status = 'erased', suspension_reason = null,
                        updated_at = greatest(updated_at, $3)
                  where user_id = $1",
            )
            .bind(user_id)
            .bind(domain::user::erased_email().as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query("delete from user_addresses where user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("delete from user_preferences where user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        UserEvent::UserReactivated { at } => {
            sqlx::query(
                "update users set suspension_reason = null,
                        status = case when email_verified then 'active' else 'pending' end,
                        updated_at = greatest(updated_at, $2)
                  where user_id = $1",
            )
            .bind(user_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

#[async_trait]
impl Projection for UsersProjection {
    fn name(&self) -> &'static str {
        "users"
    }

    fn schema(&self) -> &'static str {
        "users"
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.category() == "user"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/users.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if event.category() != "user" {
            return Ok(());
        }
        match event.stream_uuid() {
            Some(user_id) => apply_user(tx, event, user_id).await,
            None => Ok(()),
        }
    }
}
