use sea_orm::entity::prelude::*;

/// One seat of one flight. `status` is `available`, `held` (by a pending booking, until
/// `held_until`) or `booked`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "flight_seats")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub flight_id: i32,
    pub seat: String,
    pub row_number: i32,
    pub letter: String,
    pub class: String,
    pub status: String,
    pub booking_id: Option<i32>,
    pub held_until: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const STATUS_AVAILABLE: &str = "available";
pub const STATUS_HELD: &str = "held";
pub const STATUS_BOOKED: &str = "booked";
pub const CLASS_ECONOMY: &str = "economy";
pub const CLASS_BUSINESS: &str = "business";
