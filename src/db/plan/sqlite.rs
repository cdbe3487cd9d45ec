//! A plan on SQLite: one batch (see `db::batch`) in a group of batches on the single writer
//! (see `db::batch_group`), judged as soon as it has run.

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{DbBackend, DbErr, QueryResult};

use super::{PlanError, Rerun, Role, WritePlan, Written};
use crate::config::DatabaseKind;
use crate::db::batch::{Answers, Batch};
use crate::db::batch_group::Verdict;
use crate::db::Database;

/// The column of the row that opens each read's rows: a batch answers the rows of all its
/// queries one after the other.
const READ_MARKER: &str = "skybook_plan_read";

pub(super) async fn execute(db: &Database, plan: WritePlan) -> Result<Written, Rerun> {
    let sqlite = DbBackend::Sqlite;
    let mut batch = Batch::new();
    for step in plan.steps_for(DatabaseKind::Sqlite) {
        let statement = step.sql.bound(sqlite);
        batch = match step.role {
            Role::Write | Role::Lock => batch.write(statement),
            Role::Count => batch.count(statement),
        };
    }
    for (index, read) in plan.reads.iter().enumerate() {
        let marker = Query::select()
            .expr_as(
                Expr::val(index as i64),
                sea_orm::sea_query::Alias::new(READ_MARKER),
            )
            .to_owned();
        batch = batch
            .rows(sqlite.build(&marker))
            .rows(sqlite.build(&read.sql));
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
    let counts = plan
        .steps_for(DatabaseKind::Sqlite)
        .map(|step| step.name)
        .zip(answers.counts)
        .collect();
    Ok(Written {
        counts,
        reads: split_reads(plan, answers.rows)?,
    })
}

/// The batch's rows, each read's after its marker row.
fn split_reads(
    plan: &WritePlan,
    rows: Vec<QueryResult>,
) -> Result<Vec<(&'static str, Vec<QueryResult>)>, DbErr> {
    let mut reads: Vec<(&'static str, Vec<QueryResult>)> = Vec::with_capacity(plan.reads.len());
    for row in rows {
        match row.try_get::<i64>("", READ_MARKER) {
            Ok(index) => {
                let read = usize::try_from(index)
                    .ok()
                    .and_then(|i| plan.reads.get(i))
                    .ok_or_else(|| DbErr::Custom(format!("a read marker out of range: {index}")))?;
                reads.push((read.name, Vec::new()));
            }
            Err(_) => match reads.last_mut() {
                Some((_, read_rows)) => read_rows.push(row),
                None => return Err(DbErr::Custom("a row before any read's marker".into())),
            },
        }
    }
    if reads.len() != plan.reads.len() {
        return Err(DbErr::Custom(format!(
            "{} of the plan's {} reads answered",
            reads.len(),
            plan.reads.len()
        )));
    }
    Ok(reads)
}
