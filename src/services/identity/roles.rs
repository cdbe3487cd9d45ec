//! Role changes by admins, and the one rule about them: there is always an admin left.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait,
};

use crate::db::Database;
use crate::error::AppError;
use crate::models::identity::{user, Role};

/// Sets user `id`'s role. Demoting the last admin is 409 `last_admin`, also when two admins
/// demote each other at once: the transaction first writes every admin row (role = role),
/// which takes their row locks on PostgreSQL and MySQL and the write lock on SQLite, so
/// concurrent demotions run one after the other and the later one counts what the earlier
/// one left. (`SELECT … FOR UPDATE` would do on the servers, but on SQLite it is a plain read
/// that a second process's write could turn into a busy error.)
/// The name under which a test switches the admin rows' lock off (`Faults::unchecked`).
pub const LAST_ADMIN_LOCK: &str = "last_admin_lock";

#[tracing::instrument(skip(db))]
pub async fn set_role(db: &Database, id: i32, role: Role) -> Result<user::Model, AppError> {
    let admin = Role::Admin.as_str();
    db.durably(async move {
        let txn = db.writer.begin().await?;
        if role != Role::Admin && !db.ignores_check(LAST_ADMIN_LOCK) {
            user::Entity::update_many()
                .col_expr(user::Column::Role, Expr::col(user::Column::Role).into())
                .filter(user::Column::Role.eq(admin))
                .exec(&txn)
                .await?;
        }
        let existing = user::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound)?;
        let was_admin = existing.role == admin;
        let mut row: user::ActiveModel = existing.into();
        row.role = Set(role.as_str().to_string());
        let updated = row.update(&txn).await?;
        if was_admin && role != Role::Admin {
            let admins_left = user::Entity::find()
                .filter(user::Column::Role.eq(admin))
                .count(&txn)
                .await?;
            if admins_left == 0 {
                txn.rollback().await?;
                return Err(AppError::LastAdmin);
            }
        }
        txn.commit().await?;
        Ok(updated)
    })
    .await
}
