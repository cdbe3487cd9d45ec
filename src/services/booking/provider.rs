//! Payment providers. Every call carries the payment attempt's own key, so a provider charges
//! (or refunds) one attempt at most once however often it is asked, which is what lets the
//! sweeper finish an attempt that a crash interrupted without charging again.

use async_trait::async_trait;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryTrait};

use crate::clock;
use crate::db::plan::{Expect, WritePlan};
use crate::db::Database;
use crate::models::booking::sandbox_charge::{self, CHARGE, REFUND};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Charged { provider_ref: String },
    Declined,
}

#[derive(Debug, thiserror::Error)]
#[error("payment provider error: {0}")]
pub struct ProviderError(pub String);

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// The payment methods this provider accepts.
    fn accepts(&self, method: &str) -> bool;

    async fn charge(
        &self,
        key: &str,
        amount: i64,
        currency: &str,
        method: &str,
    ) -> Result<ChargeOutcome, ProviderError>;

    /// Refunds the charge made under `key` in full.
    async fn refund(&self, key: &str) -> Result<(), ProviderError>;

    /// The charge made under `key`, if any (for reconciling interrupted attempts).
    async fn find_charge(&self, key: &str) -> Result<Option<String>, ProviderError>;
}

pub const METHOD_OK: &str = "pm_card_ok";
pub const METHOD_DECLINED: &str = "pm_card_declined";
pub const METHOD_ERROR: &str = "pm_card_error";

/// The built-in sandbox: `pm_card_ok` succeeds, `pm_card_declined` is declined,
/// `pm_card_error` fails at the provider. It keeps its own ledger table so tests can count
/// exactly what was charged and refunded.
pub struct SandboxProvider {
    db: Database,
}

impl SandboxProvider {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn failed(err: impl std::fmt::Display) -> ProviderError {
    ProviderError(err.to_string())
}

impl SandboxProvider {
    async fn charge_under(
        &self,
        key: &str,
    ) -> Result<Option<sandbox_charge::Model>, ProviderError> {
        sandbox_charge::Entity::find()
            .filter(sandbox_charge::Column::PaymentRef.eq(key))
            .filter(sandbox_charge::Column::Kind.eq(CHARGE))
            .one(&self.db.reader)
            .await
            .map_err(failed)
    }

    /// Writes a ledger row; `None` when the attempt's key has one of this kind already (the
    /// provider was asked again for the same attempt). An insert that does not fail wrote its
    /// row, so the plan has no check to wait for (one round trip on the servers).
    async fn record(
        &self,
        row: sandbox_charge::ActiveModel,
        kind: &str,
        key: &str,
    ) -> Result<Option<sandbox_charge::Model>, ProviderError> {
        let plan = WritePlan::new()
            .write(
                "recorded",
                sandbox_charge::Entity::insert(row).into_query(),
                Expect::Any,
            )
            .read(
                "row",
                sandbox_charge::Entity::find()
                    .filter(sandbox_charge::Column::PaymentRef.eq(key))
                    .filter(sandbox_charge::Column::Kind.eq(kind)),
            )
            // The sandbox stands for a provider outside: Skybook is told of a charge only
            // through its own attempt's plans, which wait for the disk.
            .quiet();
        match self.db.execute(plan).await {
            Ok(written) => written.one("row").map(Some).map_err(failed),
            Err(err) if err.is_unique_violation() => Ok(None),
            Err(err) => Err(failed(err)),
        }
    }
}

#[async_trait]
impl PaymentProvider for SandboxProvider {
    fn accepts(&self, method: &str) -> bool {
        [METHOD_OK, METHOD_DECLINED, METHOD_ERROR].contains(&method)
    }

    async fn charge(
        &self,
        key: &str,
        amount: i64,
        currency: &str,
        method: &str,
    ) -> Result<ChargeOutcome, ProviderError> {
        match method {
            METHOD_OK => {}
            METHOD_DECLINED => return Ok(ChargeOutcome::Declined),
            _ => return Err(ProviderError(format!("card error for {method}"))),
        }
        let row = sandbox_charge::ActiveModel {
            payment_ref: Set(key.to_string()),
            kind: Set(CHARGE.into()),
            amount: Set(amount),
            currency: Set(currency.to_string()),
            created_at: Set(clock::now()),
            ..Default::default()
        };
        match self.record(row, CHARGE, key).await? {
            Some(charge) => Ok(ChargeOutcome::Charged {
                provider_ref: format!("ch_{}", charge.id),
            }),
            // Asked again for the same attempt: the first charge stands.
            None => match self.find_charge(key).await? {
                Some(provider_ref) => Ok(ChargeOutcome::Charged { provider_ref }),
                None => Err(ProviderError("charge vanished".into())),
            },
        }
    }

    async fn refund(&self, key: &str) -> Result<(), ProviderError> {
        let charge = self
            .charge_under(key)
            .await?
            .ok_or_else(|| ProviderError(format!("no charge under {key} to refund")))?;
        let row = sandbox_charge::ActiveModel {
            payment_ref: Set(key.to_string()),
            kind: Set(REFUND.into()),
            amount: Set(charge.amount),
            currency: Set(charge.currency),
            created_at: Set(clock::now()),
            ..Default::default()
        };
        // A second refund of one charge finds the first.
        self.record(row, REFUND, key).await?;
        Ok(())
    }

    async fn find_charge(&self, key: &str) -> Result<Option<String>, ProviderError> {
        Ok(self
            .charge_under(key)
            .await?
            .map(|charge| format!("ch_{}", charge.id)))
    }
}
