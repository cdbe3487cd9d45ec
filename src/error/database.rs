//! How the database layer's failures become answers: a constraint a concurrent change hit is
//! 409, an unreachable database or a commit of unknown outcome 503, anything else 500.

use super::AppError;

impl From<crate::db::write_lane::LaneStopped> for AppError {
    fn from(stopped: crate::db::write_lane::LaneStopped) -> Self {
        AppError::Unexpected(stopped.into())
    }
}

impl From<crate::db::batch_group::BatchFailed> for AppError {
    fn from(failed: crate::db::batch_group::BatchFailed) -> Self {
        AppError::Unexpected(failed.into())
    }
}

impl From<crate::db::plan::PlanError> for AppError {
    fn from(failed: crate::db::plan::PlanError) -> Self {
        use crate::db::plan::PlanError;
        match failed {
            PlanError::Failed(err) => err.into(),
            // The database went away mid-commit (an outage, a restart) or the process is
            // stopping: the client may retry (a payment with its Idempotency-Key gets the kept
            // answer), so 503, as for any request during an outage, not a 500.
            PlanError::Unknown(why) => {
                tracing::warn!(error = %why, "a write's commit has an unknown outcome");
                AppError::Unavailable
            }
            PlanError::Stopped | PlanError::GaveUp => AppError::Unavailable,
            other => AppError::Unexpected(other.into()),
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::SqlErr;
        // Services map the constraints they expect to precise answers; these are the ones a
        // concurrent change can still hit (e.g. a referenced row deleted meanwhile).
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                return AppError::Conflict("a resource with these values already exists".into())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                return AppError::Conflict(
                    "a referenced resource is missing or still in use".into(),
                )
            }
            _ => {}
        }
        // Every connection busy for the whole acquire timeout, or the database down or its
        // connection lost: overload or an outage, not a bug.
        if crate::db::is_unreachable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            crate::db::give_up::note_unreachable();
            return AppError::Unavailable;
        }
        AppError::Unexpected(anyhow::Error::new(err).context("database error"))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::ResponseError;

    use super::*;

    #[test]
    fn a_commit_of_unknown_outcome_or_a_stopped_lane_is_503_not_500() {
        use crate::db::plan::PlanError;
        for failed in [
            PlanError::Unknown("got 0 bytes at EOF".into()),
            PlanError::Stopped,
            PlanError::GaveUp,
        ] {
            let answer = AppError::from(failed);
            assert_eq!(answer.status_code(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(answer.code(), "unavailable");
        }
        let undurable = PlanError::NotDurable(std::io::Error::other("fsync failed"));
        assert_eq!(
            AppError::from(undurable).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn a_database_down_or_a_connection_lost_is_503_not_500() {
        use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
        let io = |kind| sqlx::Error::Io(std::io::Error::from(kind));
        let unreachable = [
            DbErr::Conn(RuntimeErr::SqlxError(io(
                std::io::ErrorKind::ConnectionRefused,
            ))),
            DbErr::Exec(RuntimeErr::SqlxError(io(
                std::io::ErrorKind::ConnectionReset,
            ))),
            DbErr::Query(RuntimeErr::SqlxError(io(std::io::ErrorKind::UnexpectedEof))),
            DbErr::Conn(RuntimeErr::SqlxError(sqlx::Error::PoolTimedOut)),
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        ];
        for err in unreachable {
            let shown = err.to_string();
            let answer = AppError::from(err);
            assert_eq!(
                answer.status_code(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{shown}"
            );
            assert_eq!(answer.code(), "unavailable");
        }
        // A statement's own failure is still a bug.
        let own = DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::RowNotFound));
        assert_eq!(
            AppError::from(own).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
