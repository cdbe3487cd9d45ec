//! axe-core in the page: the accessibility rules a page breaks, as axe finds them.
//!
//! axe-core comes from npm at the version tests/browser/package-lock.json pins (`scripts/test`
//! runs `npm ci` there when it is missing); it is injected into each page through WebDriver.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::harness::Browser;

fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/browser/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; install axe-core with `npm ci` in tests/browser (scripts/test does)",
                path.display()
            )
        })
    })
}

/// Runs axe on the current page and returns its violations, one line per rule and element:
/// `rule-id (impact): help — target [html]`.
pub async fn violations(browser: &Browser) -> Vec<String> {
    // Folded parts (<details>) are checked open: a traveller opens them.
    browser
        .execute(&format!(
            "if (!window.axe) {{ {} }}\n\
             document.querySelectorAll('details').forEach(d => d.open = true);\n\
             return typeof window.axe.run;",
            axe_source()
        ))
        .await;
    let result = browser
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];\n\
             axe.run(document, { resultTypes: ['violations'] })\n\
               .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,\n\
                   nodes: v.nodes.map(n => ({ target: n.target.join(' '), html: n.html.slice(0, 160),\n\
                     summary: n.failureSummary })) }))))\n\
               .catch(e => done({ error: String(e) }));",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("run axe: {e}"));
    if let Some(error) = result.get("error") {
        panic!("axe failed: {error}");
    }
    let Value::Array(rules) = result else {
        panic!("axe returned {result}")
    };
    let mut lines = Vec::new();
    for rule in &rules {
        for node in rule["nodes"].as_array().into_iter().flatten() {
            lines.push(format!(
                "{} ({}): {} — {} {}\n      {}",
                rule["id"].as_str().unwrap_or("?"),
                rule["impact"].as_str().unwrap_or("?"),
                rule["help"].as_str().unwrap_or(""),
                node["target"].as_str().unwrap_or("?"),
                node["html"].as_str().unwrap_or(""),
                node["summary"]
                    .as_str()
                    .unwrap_or("")
                    .replace('\n', "\n      "),
            ));
        }
    }
    lines
}
