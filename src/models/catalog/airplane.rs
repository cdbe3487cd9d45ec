use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "airplanes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub model: String,
    pub rows: i32,
    pub seat_letters: String,
    pub business_rows: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
