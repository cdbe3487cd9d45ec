use anyhow::Context;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait,
};

use super::{hash_password, verify_password, TokenKeys};
use crate::db::template::{PerBackend, Template};
use crate::db::Database;
use crate::error::AppError;
use crate::models::identity::{user, Email, Role};
use crate::services::db_errors::is_unique_violation;

pub const MIN_PASSWORD_LEN: usize = 8;
/// Bounds the work one sign-in can cause.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// A password of acceptable length, never printed.
pub struct Password(String);

impl Password {
    pub fn parse(input: String) -> Result<Self, String> {
        let chars = input.chars().count();
        if chars < MIN_PASSWORD_LEN {
            return Err(format!("must be at least {MIN_PASSWORD_LEN} characters"));
        }
        if input.len() > MAX_PASSWORD_LEN {
            return Err(format!("must be at most {MAX_PASSWORD_LEN} bytes"));
        }
        Ok(Self(input))
    }
}

/// A person's display name: 1-200 characters after trimming.
pub fn parse_person_name(input: &str) -> Result<String, String> {
    let name = input.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err("must be 1 to 200 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(name.to_string())
}

pub struct UserForSignup {
    pub email: Email,
    pub password: Password,
    pub name: String,
}

pub struct SignedIn {
    pub access_token: String,
    pub expires_in: u64,
    pub user: user::Model,
}

#[tracing::instrument(skip_all, fields(email = %new.email))]
pub async fn sign_up(db: &Database, new: UserForSignup) -> Result<user::Model, AppError> {
    insert_user(db, new, Role::Customer).await
}

async fn insert_user(
    db: &Database,
    new: UserForSignup,
    role: Role,
) -> Result<user::Model, AppError> {
    let password_hash = hash_password(new.password.0).await?;
    let row = user::ActiveModel {
        email: Set(new.email.as_str().to_string()),
        name: Set(new.name),
        password_hash: Set(password_hash),
        role: Set(role.as_str().to_string()),
        created_at: Set(crate::clock::now()),
        ..Default::default()
    };
    db.durably(async {
        match row.insert(&db.writer).await {
            Ok(user) => Ok(user),
            Err(err) if is_unique_violation(&err) => Err(AppError::EmailTaken),
            Err(err) => Err(err.into()),
        }
    })
    .await
}

/// The same answer, after the same work, for an unknown email and a wrong password.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    db: &Database,
    keys: &TokenKeys,
    email: &str,
    password: String,
) -> Result<SignedIn, AppError> {
    let found = match Email::parse(email) {
        Ok(email) => find_by_email(db, &email).await?,
        Err(_) => None,
    };
    let stored = found.as_ref().map(|u| u.password_hash.clone());
    if !verify_password(password, stored).await? {
        return Err(AppError::Unauthorized);
    }
    let user = found.ok_or(AppError::Unauthorized)?;
    let access_token = keys.issue(user.id, &user.role)?;
    Ok(SignedIn {
        access_token,
        expires_in: keys.ttl_seconds(),
        user,
    })
}

pub async fn find_by_email(db: &Database, email: &Email) -> Result<Option<user::Model>, AppError> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(&db.reader)
        .await?)
}

/// Every authenticated request reads its caller: the statement is a template (see
/// `db::template`), built once instead of per request.
pub async fn find_user(db: &Database, id: i32) -> Result<Option<user::Model>, AppError> {
    static BY_ID: PerBackend = PerBackend::new();
    const SENTINEL_ID: i32 = i32::MIN + 5;
    let backend = db.reader.get_database_backend();
    let template = BY_ID.get(backend, || {
        Template::new(backend, &user_by_id(SENTINEL_ID), &[SENTINEL_ID.into()])
    });
    Ok(user::Entity::find()
        .from_raw_sql(template.statement(&[id.into()]))
        .one(&db.reader)
        .await?)
}

fn user_by_id(id: i32) -> SelectStatement {
    user::Entity::find_by_id(id).limit(1).into_query()
}

#[tracing::instrument(skip(db))]
pub async fn set_role(db: &Database, id: i32, role: Role) -> Result<user::Model, AppError> {
    let user = user::Entity::find_by_id(id)
        .one(&db.writer)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut row: user::ActiveModel = user.into();
    row.role = Set(role.as_str().to_string());
    db.durably(async { Ok(row.update(&db.writer).await?) })
        .await
}

pub enum AdminCreated {
    Created(user::Model),
    Promoted(user::Model),
}

/// Creates an admin account, or promotes the existing account with that email (whose
/// password is then left as it was).
pub async fn create_admin(
    db: &Database,
    email: Email,
    password: Password,
) -> Result<AdminCreated, AppError> {
    if let Some(existing) = find_by_email(db, &email).await? {
        let promoted = set_role(db, existing.id, Role::Admin).await?;
        return Ok(AdminCreated::Promoted(promoted));
    }
    let name = email
        .as_str()
        .split('@')
        .next()
        .unwrap_or("admin")
        .to_string();
    let user = insert_user(
        db,
        UserForSignup {
            email,
            password,
            name,
        },
        Role::Admin,
    )
    .await
    .context("cannot create the admin")?;
    Ok(AdminCreated::Created(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caller_s_template_builds_what_sea_orm_builds() {
        use sea_orm::DbBackend;
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            let template =
                Template::new(backend, &user_by_id(i32::MIN + 5), &[(i32::MIN + 5).into()]);
            assert_eq!(
                template.statement(&[42.into()]),
                user::Entity::find_by_id(42).limit(1).build(backend)
            );
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(Password::parse("1234567".into()).is_err());
        assert!(Password::parse("12345678".into()).is_ok());
        assert!(Password::parse("x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_person_name("  Asha Rao ").unwrap(), "Asha Rao");
        assert!(parse_person_name("   ").is_err());
        assert!(parse_person_name(&"x".repeat(201)).is_err());
        assert!(parse_person_name("a\u{0}b").is_err());
    }
}
