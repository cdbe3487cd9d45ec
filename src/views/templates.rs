//! The tera templates, embedded in the binary and parsed once at start.

use include_dir::{include_dir, Dir};
use tera::Tera;

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Every template under `templates/`, named by its path (`emails/confirmed.html.tera`).
/// HTML templates escape what they interpolate.
pub fn load() -> anyhow::Result<Tera> {
    let mut files = Vec::new();
    collect(&TEMPLATES, &mut files);
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html.tera"]);
    tera.add_raw_templates(files)
        .map_err(|e| anyhow::anyhow!("templates do not parse: {e:?}"))?;
    Ok(tera)
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<(String, &'static str)>) {
    for file in dir.files() {
        if let (Some(path), Some(text)) = (file.path().to_str(), file.contents_utf8()) {
            out.push((path.to_string(), text));
        }
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        let tera = super::load().expect("templates load");
        assert!(tera
            .get_template_names()
            .any(|n| n == "emails/confirmed.html.tera"));
    }
}
