use sea_orm::entity::prelude::*;

/// Times are stored as UTC without a zone (one column type that means the same on all three
/// databases); `departure_local_date` is the departure's date at the departure airport.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "flights")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub flight_number: String,
    pub airplane_id: i32,
    pub departure_airport_id: i32,
    pub arrival_airport_id: i32,
    pub departure_time: DateTime,
    pub arrival_time: DateTime,
    pub departure_local_date: Date,
    pub price_economy: i64,
    pub price_business: i64,
    pub currency: String,
    pub seats_total: i32,
    pub seats_available: i32,
    pub created_at: DateTime,
    /// The earliest end of a hold on this flight's seats, NULL while none is held (kept with
    /// the seats, like `seats_available`).
    pub holds_lapse_at: Option<DateTime>,
    /// `scheduled` or `cancelled`.
    pub status: String,
    pub cancel_reason: Option<String>,
    pub cancelled_at: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const SCHEDULED: &str = "scheduled";
pub const CANCELLED: &str = "cancelled";

impl Model {
    pub fn is_cancelled(&self) -> bool {
        self.status == CANCELLED
    }
}
