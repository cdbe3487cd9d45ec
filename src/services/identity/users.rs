use sea_orm::sea_query::SelectStatement;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait,
};

use super::credentials::replace_password;
use super::passwords::{check_strength, hash_password, verify_password, Password};
use super::TokenKeys;
use crate::db::template::{PerBackend, Template};
use crate::db::Database;
use crate::error::AppError;
use crate::models::identity::{user, Email, Role};
use crate::services::db_errors::is_unique_violation;

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

/// A new customer; a weak password is 422 `weak_password` on the `password` field.
#[tracing::instrument(skip_all, fields(email = %new.email))]
pub async fn sign_up(db: &Database, new: UserForSignup) -> Result<user::Model, AppError> {
    insert_user(db, new, Role::Customer).await
}

async fn insert_user(
    db: &Database,
    new: UserForSignup,
    role: Role,
) -> Result<user::Model, AppError> {
    check_strength(new.password.expose(), new.email.as_str())
        .map_err(|weak| weak.on_field("password"))?;
    let password_hash = hash_password(new.password.into_inner()).await?;
    let row = user::ActiveModel {
        email: Set(new.email.as_str().to_string()),
        name: Set(new.name),
        password_hash: Set(password_hash),
        role: Set(role.as_str().to_string()),
        created_at: Set(crate::clock::now()),
        token_generation: Set(0),
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
    // The token carries the generation read with the hash just verified: if the password
    // changes meanwhile, this token is revoked with every other one.
    let access_token = keys.issue(&user)?;
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

/// A user by id, as a template (see `db::template`), built once instead of per call.
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

pub enum AdminCreated {
    Created(user::Model),
    Promoted(user::Model),
}

/// Creates an admin account. An email that already has an account is 409 `email_taken` and
/// changes nothing: whoever registered the address first must not become admin by it.
pub async fn create_admin(
    db: &Database,
    email: Email,
    password: Password,
) -> Result<user::Model, AppError> {
    let name = email
        .as_str()
        .split('@')
        .next()
        .unwrap_or("admin")
        .to_string();
    insert_user(
        db,
        UserForSignup {
            email,
            password,
            name,
        },
        Role::Admin,
    )
    .await
}

/// `create-admin --promote-existing`: creates the admin, or makes the existing account with
/// that email admin with `password` as its password, revoking every token issued to it
/// before (the operator takes the account over from whoever registered the address).
pub async fn create_or_promote_admin(
    db: &Database,
    email: Email,
    password: Password,
) -> Result<AdminCreated, AppError> {
    let Some(existing) = find_by_email(db, &email).await? else {
        return create_admin(db, email, password)
            .await
            .map(AdminCreated::Created);
    };
    check_strength(password.expose(), email.as_str()).map_err(|weak| weak.on_field("password"))?;
    let promoted = replace_password(db, existing.id, password, Some(Role::Admin)).await?;
    Ok(AdminCreated::Promoted(promoted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_template_builds_what_sea_orm_builds() {
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
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_person_name("  Asha Rao ").unwrap(), "Asha Rao");
        assert!(parse_person_name("   ").is_err());
        assert!(parse_person_name(&"x".repeat(201)).is_err());
        assert!(parse_person_name("a\u{0}b").is_err());
    }
}
