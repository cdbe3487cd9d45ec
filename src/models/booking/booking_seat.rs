use sea_orm::entity::prelude::*;

/// One seat of a booking, with its passenger and the price it was sold at.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_seats")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub booking_id: i32,
    pub seat: String,
    pub class: String,
    pub price: i64,
    pub passenger_name: String,
    /// When the passenger checked in; NULL before.
    pub checked_in_at: Option<DateTime>,
    /// The booking's flight, written with the sequence number (the unique index on both
    /// keeps the numbers unique per flight).
    pub checkin_flight_id: Option<i32>,
    /// The order of check-in on the flight, from 1.
    pub checkin_sequence: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
