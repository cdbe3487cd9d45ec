//! Where emails go: an SMTP server (lettre; `smtp://` plain or with `?tls=required` for
//! STARTTLS, `smtps://` implicit TLS, optional `user:pass@`), or, with no SMTP URL, `.eml`
//! files under `<data_dir>/outbox/` for a newcomer to read.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::private_files;

/// A slow or silent server must not hold a worker for long.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

impl Mailer {
    pub fn new(smtp_url: &str, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        if smtp_url.is_empty() {
            return Ok(Mailer::Files(data_dir.join("outbox")));
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .context("invalid SMTP URL")?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Mailer::Smtp(transport))
    }

    /// Delivers `message`; `name` names the file in the `.eml` mode.
    pub async fn send(&self, message: Message, name: &str) -> anyhow::Result<()> {
        match self {
            Mailer::Smtp(transport) => {
                transport
                    .send(message)
                    .await
                    .context("the SMTP server refused")?;
                Ok(())
            }
            Mailer::Files(dir) => {
                // Emails carry names, itineraries and reset links: the owner's only.
                private_files::create_dir_all_async(dir)
                    .await
                    .context("cannot create the outbox directory")?;
                let path = dir.join(format!("{name}.eml"));
                let partial = dir.join(format!(".{name}.eml.partial"));
                // Whole files only: written aside, then renamed into place.
                private_files::write_new(&partial, &message.formatted())
                    .await
                    .context("cannot write the email")?;
                tokio::fs::rename(&partial, &path)
                    .await
                    .context("cannot place the email")?;
                Ok(())
            }
        }
    }
}
