//! Emails to an account rather than about a booking: today the password-reset link.

use anyhow::Context;
use tera::Tera;

use crate::models::notify::email;
use crate::services::identity::{ResetKey, RESET_TTL_MINUTES};
use crate::services::notify::outbox::{self, ResetDetails};
use crate::views::notify::{render_kind, RenderedEmail, ResetEmail};

/// Renders an account email from what its row keeps. A reset email's link is made again from
/// its seed on every attempt, so a retried send carries the same link.
pub fn render(
    tera: &Tera,
    due: &email::Model,
    key: &ResetKey,
    public_url: &str,
) -> anyhow::Result<RenderedEmail> {
    anyhow::ensure!(
        due.kind == outbox::PASSWORD_RESET,
        "email {} of kind {} has no booking",
        due.id,
        due.kind
    );
    let details = due
        .details
        .as_deref()
        .with_context(|| format!("reset email {} has no details", due.id))?;
    let details: ResetDetails =
        serde_json::from_str(details).with_context(|| format!("details of email {}", due.id))?;
    let token = key.token(&details.seed)?;
    let view = ResetEmail {
        reset_url: format!("{public_url}/reset-password?token={token}"),
        valid_minutes: RESET_TTL_MINUTES,
    };
    render_kind(tera, &due.kind, &view)
}
