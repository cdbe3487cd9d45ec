//! Admin pages: one generic list-and-form page for each catalog entity, bookings with
//! filters, and occupancy per flight.

use serde::Serialize;

use super::operations::FlightOperations;
use super::trips::Notice;
use super::{FieldErrors, Pager};

#[derive(Serialize, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// One input of an admin form, with the API's validation message beside it.
#[derive(Serialize)]
pub struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `number`, `datetime-local` or `select`.
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<Choice>,
    pub hint: Option<&'static str>,
    pub error: Option<String>,
}

impl FormField {
    pub fn new(name: &'static str, label: &'static str, kind: &'static str) -> Self {
        Self {
            name,
            label,
            kind,
            value: String::new(),
            options: Vec::new(),
            hint: None,
            error: None,
        }
    }

    pub fn hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn options(mut self, options: Vec<Choice>) -> Self {
        self.options = options;
        self
    }
}

#[derive(Serialize)]
pub struct EntityForm {
    pub action: String,
    pub submit: &'static str,
    pub fields: Vec<FormField>,
    /// Errors about no single field of this form, shown above it.
    pub other_errors: Vec<String>,
}

impl EntityForm {
    /// Fills the fields with what was typed (or stored) and the errors of the last submit.
    pub fn filled(
        mut self,
        value_of: impl Fn(&str) -> Option<String>,
        errors: &FieldErrors,
    ) -> Self {
        for field in &mut self.fields {
            if let Some(value) = value_of(field.name) {
                field.value = value;
            }
            field.error = errors.get(field.name).cloned();
        }
        self.other_errors = errors
            .iter()
            .filter(|(name, _)| !self.fields.iter().any(|f| f.name == name.as_str()))
            .map(|(name, message)| format!("{name}: {message}"))
            .collect();
        self
    }
}

#[derive(Serialize)]
pub struct TableRow {
    pub id: i32,
    pub cells: Vec<String>,
    pub edit_url: String,
    pub delete_url: String,
}

#[derive(Serialize)]
pub struct CatalogPage {
    /// `cities`, `airports`, `airplanes` or `flights`: the admin menu's current entry.
    pub section: &'static str,
    pub title: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<TableRow>,
    pub form: EntityForm,
    pub notice: Option<Notice>,
    pub pager: Pager,
}

#[derive(Serialize)]
pub struct EditPage {
    pub section: &'static str,
    pub title: String,
    pub form: EntityForm,
    pub back_url: String,
    pub notice: Option<Notice>,
    /// A flight's cancellation and passenger list, below its form.
    pub operations: Option<FlightOperations>,
}

#[derive(Serialize)]
pub struct AdminHome {
    pub section: &'static str,
    pub links: Vec<Choice>,
}

#[derive(Serialize, Default)]
pub struct BookingFilterForm {
    pub status: String,
    pub flight_id: String,
    pub reference: String,
}

#[derive(Serialize)]
pub struct AdminBookingRow {
    pub id: i32,
    pub reference: String,
    pub status: String,
    pub flight_id: i32,
    pub flight_number: String,
    pub user_id: i32,
    pub total: String,
    pub created_at: String,
}

#[derive(Serialize)]
pub struct AdminBookingsPage {
    pub section: &'static str,
    pub filter: BookingFilterForm,
    pub statuses: &'static [&'static str],
    pub errors: FieldErrors,
    pub rows: Vec<AdminBookingRow>,
    pub total: u64,
    pub pager: Pager,
}

#[derive(Serialize)]
pub struct OccupancyRow {
    pub flight_id: i32,
    pub flight_number: String,
    pub departs_utc: String,
    pub seats: i64,
    pub booked: i64,
    pub held: i64,
    pub free: i64,
    /// Booked seats as a share of all seats, 0-100.
    pub percent_booked: i64,
}

#[derive(Serialize)]
pub struct OccupancyPage {
    pub section: &'static str,
    pub rows: Vec<OccupancyRow>,
    pub pager: Pager,
}
