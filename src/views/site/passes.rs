//! The boarding pass page: each pass's items in words around its barcode.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use serde::Serialize;

use super::{local_time, LocalTime};
use crate::error::AppError;
use crate::services::booking::boarding_passes::BoardingPasses;

#[derive(Serialize)]
pub struct PassView {
    pub passenger: String,
    pub seat: String,
    /// `Business` or `Economy`.
    pub class: String,
    pub sequence: i32,
    /// `0001`, as printed on the pass.
    pub sequence_padded: String,
    pub bcbp: String,
    /// The barcode as an inline SVG document (drawn here from the BCBP text, no user markup).
    pub barcode_svg: String,
}

#[derive(Serialize)]
pub struct BoardingPassPage {
    pub id: i32,
    pub reference: String,
    pub flight_number: String,
    pub from_code: String,
    pub from_name: String,
    pub to_code: String,
    pub to_name: String,
    pub departs: LocalTime,
    pub gate_closes: LocalTime,
    pub passes: Vec<PassView>,
}

impl BoardingPassPage {
    pub fn new(passes: BoardingPasses) -> Result<Self, AppError> {
        let zone = passes.from.timezone.as_str();
        let mut views = Vec::with_capacity(passes.passes.len());
        for pass in passes.passes {
            views.push(PassView {
                barcode_svg: barcode_svg(&pass.bcbp)?,
                passenger: pass.passenger,
                seat: pass.seat.to_string(),
                class: capitalised(&pass.class),
                sequence: pass.sequence,
                sequence_padded: format!("{:04}", pass.sequence),
                bcbp: pass.bcbp,
            });
        }
        Ok(Self {
            id: passes.booking.id,
            reference: passes.booking.reference,
            flight_number: passes.flight.flight_number,
            departs: local_time(passes.flight.departure_time, zone),
            gate_closes: local_time(passes.gate_closes_at, zone),
            from_code: passes.from.code,
            from_name: passes.from.name,
            to_code: passes.to.code,
            to_name: passes.to.name,
            passes: views,
        })
    }
}

/// The BCBP text as a QR code in SVG (IATA's Resolution 792 admits QR on phones beside PDF417
/// on paper), error correction M, with the quiet zone scanners need, dark on white whatever
/// the page's colours.
fn barcode_svg(text: &str) -> Result<String, AppError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|err| anyhow::anyhow!("the pass does not fit a QR code: {err}"))?;
    let svg = code
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // Inline in HTML: without the XML declaration.
    Ok(match svg.find("<svg") {
        Some(start) => svg[start..].to_string(),
        None => svg,
    })
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
