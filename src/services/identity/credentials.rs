//! Setting a password, which revokes every token issued before: the caller's own change
//! (`PUT /me/password`), and a replacement by someone entitled to it (`create-admin
//! --promote-existing`; the password reset builds on [`replace_password`] too).

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, UpdateMany};

use super::passwords::{check_strength, hash_password, verify_password, Password};
use crate::db::Database;
use crate::error::AppError;
use crate::models::identity::{user, Role};

/// Changes the caller's password after checking their current one (401 if wrong) and the
/// new one's strength (422 `weak_password` on `new_password`). Every token of the user,
/// the one that asked included, is revoked.
#[tracing::instrument(skip_all, fields(user_id = caller.id))]
pub async fn change_password(
    db: &Database,
    caller: &user::Model,
    current: String,
    new: Password,
) -> Result<(), AppError> {
    if !verify_password(current, Some(caller.password_hash.clone())).await? {
        return Err(AppError::Unauthorized);
    }
    check_strength(new.expose(), &caller.email).map_err(|weak| weak.on_field("new_password"))?;
    let hash = hash_password(new.into_inner()).await?;
    // Only over the hash just verified: of two changes racing from one old password, the
    // second finds the password no longer current.
    let changed = store(db, caller.id, hash, None, Some(&caller.password_hash)).await?;
    if changed == 0 {
        return Err(AppError::Unauthorized);
    }
    Ok(())
}

/// Sets the password of user `id` (and its role, if given) without asking for the old one,
/// and revokes every token issued to it before. The caller checks the new password's
/// strength with [`super::check_strength`] first, naming its own input field.
pub async fn replace_password(
    db: &Database,
    id: i32,
    password: Password,
    role: Option<Role>,
) -> Result<user::Model, AppError> {
    let hash = hash_password(password.into_inner()).await?;
    if store(db, id, hash, role, None).await? == 0 {
        return Err(AppError::NotFound);
    }
    user::Entity::find_by_id(id)
        .one(&db.writer)
        .await?
        .ok_or(AppError::NotFound)
}

/// The new hash and the next token generation of user `id`, for a caller that writes more in
/// the same transaction (the password reset spends its token with it).
pub(super) fn password_update(id: i32, hash: String) -> UpdateMany<user::Entity> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(
            user::Column::TokenGeneration,
            Expr::col(user::Column::TokenGeneration).add(1),
        )
        .filter(user::Column::Id.eq(id))
}

/// One statement: the new hash and the next token generation land together or not at all.
async fn store(
    db: &Database,
    id: i32,
    hash: String,
    role: Option<Role>,
    expected_hash: Option<&str>,
) -> Result<u64, AppError> {
    let mut update = password_update(id, hash);
    if let Some(role) = role {
        update = update.col_expr(user::Column::Role, Expr::value(role.as_str()));
    }
    if let Some(expected) = expected_hash {
        update = update.filter(user::Column::PasswordHash.eq(expected));
    }
    db.durably(async { Ok::<_, AppError>(update.exec(&db.writer).await?.rows_affected) })
        .await
}
