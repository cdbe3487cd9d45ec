//! A plan on SQLite: one batch (see `db::batch`) in a group of batches on the single writer
//! (see `db::batch_group`), judged as soon as it has run.

use std::sync::Arc;

use sea_orm::{DbBackend, DbErr};

use super::{PlanError, Rerun, Role, WritePlan, Written};
use crate::config::DatabaseKind;
use crate::db::batch::{Answers, Batch};
use crate::db::batch_group::Verdict;
use crate::db::Database;

pub(super) async fn execute(db: &Database, plan: Arc<WritePlan>) -> Result<Written, Rerun> {
    let sqlite = DbBackend::Sqlite;
    let mut batch = Batch::new();
    for step in plan.steps_for(DatabaseKind::Sqlite) {
        let statement = step.sql.bound(sqlite);
        batch = match step.role {
            Role::Write => batch.write(statement),
            Role::Count => batch.count(statement),
            // `steps_for` leaves locks out: SQLite runs one write transaction at a time.
            Role::Lock => continue,
        };
    }
    for read in &plan.reads {
        batch = batch.rows(sqlite.build(&read.sql));
    }
    let check = move |answers: Result<Answers, DbErr>| match judged(&plan, answers) {
        Ok(written) => Verdict::Keep(Ok(written)),
        Err(err) => Verdict::Undo(Err(err)),
    };
    let groups = db
        .batch_groups
        .as_ref()
        .ok_or_else(|| PlanError::Failed(DbErr::Custom("SQLite without its writer".into())))?;
    Ok(groups.run(batch, check).await??)
}

fn judged(plan: &WritePlan, answers: Result<Answers, DbErr>) -> Result<Written, PlanError> {
    let answers = answers?;
    plan.judge(DatabaseKind::Sqlite, &answers.counts)
        .map_err(PlanError::Refused)?;
    if answers.rows.len() != plan.reads.len() {
        return Err(PlanError::Failed(DbErr::Custom(format!(
            "{} of the plan's {} reads answered",
            answers.rows.len(),
            plan.reads.len()
        ))));
    }
    let counts = plan
        .steps_for(DatabaseKind::Sqlite)
        .map(|step| step.name)
        .zip(answers.counts)
        .collect();
    let reads = plan
        .reads
        .iter()
        .map(|read| read.name)
        .zip(answers.rows)
        .collect();
    Ok(Written { counts, reads })
}
