//! Opening an account, the one way all three doors share: a customer registering, an
//! admin creating a user with a role, and the bootstrap admin at start.
//!
//! The password hash is kept in the credentials table, inert until an event names it;
//! then the e-mail is claimed on its uniqueness stream (invariant 7), then the user's
//! stream is written. Should a later step fail, the claim is released and the credential
//! dropped, so the person can try again: a claim without an account would lock the address
//! out for good.

use domain::id::CredentialId;
use domain::user::{Role, UserCommand, UserError, UserStatus};
use domain::value::Email;
use uuid::Uuid;

use crate::accounts::account::{self, AccountError, Changed, EMAIL_KEY};
use crate::accounts::credentials::Credentials;
use crate::accounts::verification;
use crate::handler::{Actor, CommandError, CommandMeta, Handled};
use crate::handlers::Handlers;
use crate::store::StoreError;
use crate::unique::{self, UniqueError};

/// What an account is opened with. The password is already hashed: argon2 runs in the
/// gateway's `auth`, beside the password policy, so the write side never sees a password,
/// and the hash goes to the credentials table, never into the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub email: Email,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Why no account was opened.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Another account holds the e-mail.
    #[error("an account with this e-mail exists")]
    EmailTaken,
    /// The account's rules refuse it (a name too long, no password hash).
    #[error(transparent)]
    Rejected(UserError),
    #[error(transparent)]
    Store(StoreError),
    /// The command handler could not decide: contention, an unreadable event, shutdown.
    #[error(transparent)]
    Failed(CommandError<UserError>),
}

impl From<AccountError> for RegisterError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Rejected(e) => RegisterError::Rejected(e),
            AccountError::Store(e) => RegisterError::Store(e),
            AccountError::Failed(e) => RegisterError::Failed(e),
        }
    }
}

impl From<CommandError<UserError>> for RegisterError {
    fn from(e: CommandError<UserError>) -> Self {
        AccountError::from(e).into()
    }
}

impl From<StoreError> for RegisterError {
    fn from(e: StoreError) -> Self {
        RegisterError::Store(e)
    }
}

impl From<UniqueError> for RegisterError {
    fn from(e: UniqueError) -> Self {
        match e {
            UniqueError::Taken { .. } => RegisterError::EmailTaken,
            UniqueError::Store(e) => RegisterError::Store(e),
            // A claim never answers `NotHeld`; should it, the store is not what we think.
            other => RegisterError::Store(StoreError::Corrupt(other.to_string())),
        }
    }
}

/// A customer opens their own account; a verification link goes out through the outbox.
///
/// The registrant is the actor of every event (a new id, role `customer`). Should the
/// link fail to be issued, the account stands: its owner asks for another link.
#[tracing::instrument(skip_all)]
pub async fn register(
    handlers: &Handlers,
    credentials: &Credentials,
    account: NewAccount,
    mut meta: CommandMeta,
) -> Result<Changed, RegisterError> {
    let user_id = Uuid::new_v4();
    meta.actor = Actor {
        user_id: Some(user_id),
        role: Role::Customer.as_str().into(),
    };
    let opened = open(
        handlers,
        credentials,
        user_id,
        account,
        Role::Customer,
        &meta,
    )
    .await?;
    let mut position = opened.position;
    let mut verify = meta.clone();
    verify.command_id = Uuid::new_v5(&meta.command_id, b"request-email-verification");
    verify.causation_id = meta.command_id;
    match verification::request_verification(handlers, user_id, verify).await {
        Ok(handled) => position = handled.position.or(position),
        Err(e) => {
            tracing::warn!(%user_id, error = %e, "no verification link issued at registration")
        }
    }
    Ok(Changed {
        account: account::get(handlers, user_id).await?,
        position,
    })
}

/// An admin opens an account with any role. The e-mail stays unverified (the account
/// `pending`) until its owner verifies it; no link is sent unasked.
#[tracing::instrument(skip_all, fields(role = role.as_str()))]
pub async fn create_user(
    handlers: &Handlers,
    credentials: &Credentials,
    account: NewAccount,
    role: Role,
    meta: CommandMeta,
) -> Result<Changed, RegisterError> {
    let user_id = Uuid::new_v4();
    let opened = open(handlers, credentials, user_id, account, role, &meta).await?;
    Ok(Changed {
        account: account::get(handlers, user_id).await?,
        position: opened.position,
    })
}

/// What [`bootstrap_admin`] found to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bootstrap {
    Created,
    /// An admin, not suspended, holds the e-mail: an earlier start made it.
    Exists,
    /// Another account holds the e-mail and it is no working admin: someone registered
    /// the address first, or the admin was demoted or suspended since (`role` is `None`
    /// when the claim names no account). Nothing is overwritten; the operator is told.
    NotAnAdmin {
        owner: Uuid,
        role: Option<Role>,
        suspended: bool,
    },
}

/// [`Bootstrap::Exists`] when `owner` is a working admin, else what it is.
async fn existing(handlers: &Handlers, owner: Uuid) -> Result<Bootstrap, RegisterError> {
    let account = account::find(handlers, owner).await?;
    Ok(match account {
        Some(a) if a.role == Role::Admin && a.status != UserStatus::Suspended => Bootstrap::Exists,
        other => Bootstrap::NotAnAdmin {
            owner,
            role: other.as_ref().map(|a| a.role),
            suspended: other.is_some_and(|a| a.status == UserStatus::Suspended),
        },
    })
}

/// The first admin, with the address an operator configured (so verified without a
/// link). Its ids, the credential's too, derive from the e-mail, so two gateways starting
/// at once make one admin, and a start that failed halfway is finished by the next.
///
/// Unlike [`register`], a failure here keeps the claim: the next start claims again as
/// the same owner, which succeeds, whereas a release followed by a claim with the same
/// deterministic event id would be taken by the store for the first claim, replayed.
#[tracing::instrument(skip_all)]
pub async fn bootstrap_admin(
    handlers: &Handlers,
    credentials: &Credentials,
    email: Email,
    password_hash: String,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Bootstrap, RegisterError> {
    let user_id = Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("bootstrap-admin:{email}").as_bytes(),
    );
    let meta = CommandMeta::new(
        Uuid::new_v5(&user_id, b"register"),
        user_id,
        Actor::system(),
        at,
    );
    match unique::claim(handlers, EMAIL_KEY, email.as_str(), user_id, &meta).await {
        Ok(()) => {}
        Err(UniqueError::Taken { owner, .. }) => return existing(handlers, owner).await,
        Err(e) => return Err(e.into()),
    }
    if account::find(handlers, user_id).await?.is_some() {
        return existing(handlers, user_id).await;
    }
    let stream = account::stream(user_id);
    // Two starts racing keep two hashes of the same password under this one id; the
    // first row stays, and either verifies.
    let credential = CredentialId::new(Uuid::new_v5(&user_id, b"credential"));
    credentials
        .keep_as(credential, user_id, &password_hash)
        .await?;
    let register = register_command(
        user_id,
        NewAccount {
            email,
            password_hash,
            first_name: None,
            last_name: None,
        },
        credential,
        Role::Admin,
        &meta,
    );
    match handlers.users.handle(&stream, register, meta.clone()).await {
        Ok(_) => {}
        // Another process starting at the same moment registered it between our look and
        // our append: it is the same admin, under the same id.
        Err(CommandError::Rejected(UserError::AlreadyRegistered)) => {
            return existing(handlers, user_id).await
        }
        Err(e) => return Err(e.into()),
    }
    let mut verified = meta.clone();
    verified.command_id = Uuid::new_v5(&user_id, b"verify");
    handlers
        .users
        .handle(&stream, UserCommand::VerifyEmail { at }, verified)
        .await?;
    Ok(Bootstrap::Created)
}

fn register_command(
    user_id: Uuid,
    account: NewAccount,
    credential: CredentialId,
    role: Role,
    meta: &CommandMeta,
) -> UserCommand {
    UserCommand::Register {
        user_id: user_id.into(),
        email: account.email,
        credential,
        first_name: account.first_name,
        last_name: account.last_name,
        role,
        at: meta.occurred_at,
    }
}

/// Keeps the password's hash, claims the e-mail for `user_id`, registers the user, and
/// undoes the first two if a later step fails.
async fn open(
    handlers: &Handlers,
    credentials: &Credentials,
    user_id: Uuid,
    account: NewAccount,
    role: Role,
    meta: &CommandMeta,
) -> Result<Handled<domain::user::UserEvent>, RegisterError> {
    let email = account.email.clone();
    // The person's data key is made while their password hash is kept, so the event
    // below seals without a round trip of its own (a failure here is met again, and
    // reported, when it seals).
    let (credential, _) = tokio::join!(
        credentials.keep(user_id, &account.password_hash),
        handlers.keys.for_sealing(user_id),
    );
    let credential = credential?;
    if let Err(e) = unique::claim(handlers, EMAIL_KEY, email.as_str(), user_id, meta).await {
        credentials.discard(user_id, credential).await;
        return Err(e.into());
    }
    let command = register_command(user_id, account, credential, role, meta);
    match handlers
        .users
        .handle(&account::stream(user_id), command, meta.clone())
        .await
    {
        Ok(handled) => Ok(handled),
        Err(e) => {
            if let Err(release) =
                unique::release(handlers, EMAIL_KEY, email.as_str(), user_id, meta).await
            {
                tracing::warn!(%user_id, error = %release, "the e-mail stays claimed by a failed registration");
            }
            credentials.discard(user_id, credential).await;
            Err(e.into())
        }
    }
}
