//! The run's report: markdown, one section per database in the file `SKYBOOK_CLUSTER_REPORT`
//! names (docs/RESILIENCE.md for scripts/cluster), the other database's section kept.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use crate::checks::Verdict;
use crate::cluster::{Kind, SETTINGS};
use crate::load::{percentile, Op, Outcome, Rec};
use crate::Ctx;

/// One scenario's findings: lines of markdown, and the promises it found broken.
pub struct Section {
    pub title: String,
    pub lines: Vec<String>,
    pub failures: Vec<String>,
}

impl Section {
    pub fn new(title: &str) -> Self {
        Section {
            title: title.to_string(),
            lines: Vec::new(),
            failures: Vec::new(),
        }
    }

    pub fn line(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    pub fn fail(&mut self, why: impl Into<String>) {
        let why = why.into();
        eprintln!("FAILED {}: {why}", self.title);
        self.failures.push(why);
    }

    /// `check` must hold; the line says what was measured either way.
    pub fn expect(&mut self, check: bool, what: impl Into<String>) {
        let what = what.into();
        self.line(format!(
            "- {} {what}",
            if check { "ok:" } else { "**FAILED:**" }
        ));
        if !check {
            self.fail(what);
        }
    }

    /// The client-side answers of `records`: counts by status (and problem code), and p50/p99.
    pub fn answers(&mut self, label: &str, records: &[&Rec]) {
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for rec in records {
            let key = match (rec.status, &rec.code) {
                (None, _) => "no answer".to_string(),
                (Some(s), Some(code)) => format!("{s} {code}"),
                (Some(s), None) => s.to_string(),
            };
            *by.entry(key).or_default() += 1;
        }
        let latencies: Vec<Duration> = records.iter().map(|r| r.latency).collect();
        let counts: Vec<String> = by.iter().map(|(k, n)| format!("{n} × {k}")).collect();
        self.line(format!(
            "- {label}: {} requests: {}; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            records.len(),
            counts.join(", "),
            percentile(&latencies, 50.0),
            percentile(&latencies, 99.0),
            percentile(&latencies, 100.0),
        ));
    }

    /// The client-side summary of a load run.
    pub fn load(&mut self, outcome: &Outcome) {
        let book: Vec<&Rec> = outcome.of(Op::Book).collect();
        let pay: Vec<&Rec> = outcome.of(Op::Pay).collect();
        self.answers("booking requests", &book);
        self.answers("payment requests", &pay);
        self.line(format!(
            "- clients told: {} bookings made, {} paid, {} left unpaid to expire, {} refused \
             payment because the hold ran out first",
            outcome.acknowledged.len(),
            outcome.paid.len(),
            outcome.unpaid.len(),
            outcome.lapsed.len()
        ));
    }

    /// The database's and the sink's counts, and every broken promise.
    pub fn verdict(&mut self, verdict: Verdict) {
        let counts: Vec<String> = verdict
            .counts
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        self.line(format!(
            "- database and SMTP sink, all scenarios so far: {}",
            counts.join(", ")
        ));
        for failure in verdict.failures {
            self.line(format!("- **FAILED:** {failure}"));
            self.fail(failure);
        }
    }
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        // nginx -v prints to stderr.
        .map(|o| {
            let out = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&out).trim().to_string()
        })
        .unwrap_or_default()
}

pub fn render(ctx: &Ctx, sections: &[Section]) -> String {
    let kind = ctx.cluster.kind;
    let mut text = String::new();
    let failed: usize = sections.iter().map(|s| s.failures.len()).sum();
    let _ = writeln!(text, "## {}\n", kind.name());
    let _ = writeln!(
        text,
        "Run {} (UTC) at commit {}; {}: {} s of load per scenario, {} instances of the debug \
         build behind nginx ({}), {} clients, on {} ({} cores). Result: **{}**.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        command_output("git", &["rev-parse", "--short", "HEAD"]),
        if ctx.seconds >= 60 {
            "full run"
        } else {
            "short run"
        },
        ctx.seconds,
        ctx.cluster.instances.len(),
        command_output("nginx", &["-v"]).trim(),
        ctx.travellers.len(),
        command_output("uname", &["-sr"]),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if failed == 0 {
            "every check held".to_string()
        } else {
            format!("{failed} checks failed")
        }
    );
    let settings: Vec<String> = SETTINGS.iter().map(|(k, v)| format!("`{k}={v}`")).collect();
    let _ = writeln!(
        text,
        "Settings besides the defaults: {}.\n",
        settings.join(", ")
    );
    for section in sections {
        let _ = writeln!(text, "### {}\n", section.title);
        for line in &section.lines {
            let _ = writeln!(text, "{line}");
        }
        text.push('\n');
    }
    let _ = writeln!(
        text,
        "Faults and events (seconds since the cluster started):\n"
    );
    for (at, what) in &ctx.cluster.events {
        let _ = writeln!(text, "- {:>7.1} s: {what}", at.as_secs_f64());
    }
    text
}

const HEADER: &str = "# Resilience: several instances under faults\n\n\
Written by the harness in tests/cluster (`scripts/cluster`; docs/OPERATIONS.md, \"Several \
instances\"): three Skybook instances on one database behind nginx, five scenarios, and the \
counts read back from the database and from the SMTP server afterwards. Each database's \
section is replaced by its latest run.\n";

fn markers(kind: Kind) -> (String, String) {
    let name = match kind {
        Kind::Postgres => "postgres",
        Kind::MySql => "mariadb",
    };
    (
        format!("<!-- cluster:{name}:begin -->"),
        format!("<!-- cluster:{name}:end -->"),
    )
}

/// Replaces this database's section of the report file, if one is named.
pub fn write(kind: Kind, section: &str) {
    let Some(path) = std::env::var("SKYBOOK_CLUSTER_REPORT")
        .ok()
        .filter(|p| !p.is_empty())
    else {
        return;
    };
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| HEADER.to_string());
    let (begin, end) = markers(kind);
    let block = format!("{begin}\n{section}{end}");
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(b), Some(e)) if b < e => format!("{}{block}{}", &old[..b], &old[e + end.len()..]),
        _ => format!("{}\n\n{block}\n", old.trim_end()),
    };
    std::fs::write(&path, new).unwrap_or_else(|e| panic!("write {path}: {e}"));
}
