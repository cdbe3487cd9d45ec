//! axe-core on every page a traveller and an admin reach, in each state worth seeing (results
//! with and without flights, bookings pending, confirmed and checked in, forms with errors).

use serde_json::json;

use crate::axe;
use crate::harness::Browser;
use crate::helpers::{
    bookable_flight, days_ahead, flight_body, spawn_app, token_of, unique_email, TestApp, PASSWORD,
};

/// Pages visited so far and what axe found on them.
#[derive(Default)]
struct Findings {
    pages: Vec<String>,
    problems: Vec<String>,
}

impl Findings {
    /// Runs axe on the page the browser shows, calling it `name`.
    async fn check(&mut self, browser: &Browser, name: &str) {
        let found = axe::violations(browser).await;
        if !found.is_empty() {
            self.problems.push(format!(
                "{name} ({}):\n  {}",
                browser.current_path().await,
                found.join("\n  ")
            ));
        }
        self.pages.push(name.to_string());
    }

    /// Opens `path` and checks it.
    async fn visit(&mut self, browser: &Browser, name: &str, path: &str) {
        browser.goto(path).await;
        browser.wait_for("main").await;
        self.check(browser, name).await;
    }
}

async fn sign_in(browser: &Browser, email: &str) {
    browser.goto("/signin").await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/signin'] button[type=submit]")
        .await;
    browser.wait_for_path("/").await;
}

/// The href of the first link matching `css` on the current page.
async fn href(browser: &Browser, css: &str) -> String {
    browser.wait_for(css).await;
    browser
        .execute(&format!(
            "return document.querySelector({css:?}).getAttribute('href')"
        ))
        .await
        .as_str()
        .unwrap_or_else(|| panic!("no link {css}"))
        .to_string()
}

async fn book(app: &TestApp, token: &str, flight: i64, seats: &[&str]) -> serde_json::Value {
    let passengers: Vec<_> = seats.iter().map(|_| json!({"name": "Asha Rao"})).collect();
    let body = json!({"flight_id": flight, "seats": seats, "passengers": passengers});
    app.created(app.post("/api/v1/bookings", Some(token), &body).await)
        .await
}

#[tokio::test]
async fn every_page_a_traveller_and_an_admin_reach_has_no_axe_violations() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let later = bookable_flight(&app, &catalog, "SB101").await;
    // Departs in five hours: on sale, and check-in is open.
    let soon = app
        .create_flight(
            &catalog,
            flight_body(
                &catalog,
                "SB7",
                chrono::Utc::now() + chrono::Duration::hours(5),
                100_000,
            ),
        )
        .await["id"]
        .as_i64()
        .expect("id");
    let email = unique_email("axe");
    assert_eq!(app.sign_up(&email, PASSWORD).await.status(), 201);
    let token = token_of(app.sign_in(&email, PASSWORD).await).await;
    let confirmed = book(&app, &token, later, &["2B"]).await;
    let checked_in = book(&app, &token, soon, &["1A"]).await;
    for (booking, key) in [(&confirmed, "axe-1"), (&checked_in, "axe-2")] {
        app.created(app.pay(&token, booking, key, "pm_card_ok").await)
            .await;
    }
    let reference = confirmed["reference"]
        .as_str()
        .expect("reference")
        .to_string();
    let (confirmed, checked_in) = (confirmed["id"].clone(), checked_in["id"].clone());
    let pending = book(&app, &token, later, &["2A"]).await["id"].clone();
    // 7 of the 12 seats left: a party of 9 finds no flight with enough free seats.
    app.created(app.book_assigned(&token, later, 3).await).await;
    let checkin = app
        .post(
            &format!("/api/v1/bookings/{checked_in}/checkin"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(checkin.status(), 200);
    let day = days_ahead(10).format("%Y-%m-%d").to_string();
    let mut findings = Findings::default();

    // Signed out.
    let visitor = Browser::launch(&app.address).await;
    // The check can fail: an image without a text alternative and unreadable text are found.
    // (Styled through the DOM: the site's CSP drops inline style attributes.)
    visitor.goto("/").await;
    visitor
        .execute(
            "const main = document.querySelector('main'); \
             main.append(document.createElement('img')); \
             const faint = document.createElement('p'); faint.textContent = 'faint'; \
             faint.style.color = '#ccc'; main.append(faint); return true",
        )
        .await;
    let broken = axe::violations(&visitor).await;
    for rule in ["image-alt", "color-contrast"] {
        assert!(
            broken.iter().any(|v| v.starts_with(rule)),
            "axe missed {rule}: {broken:?}"
        );
    }
    let pages = [
        ("home", "/".to_string()),
        (
            "search with errors",
            "/flights?from=&to=&date=&passengers=1".into(),
        ),
        (
            "results",
            format!("/flights?from=TAA&to=TBB&date={day}&passengers=1"),
        ),
        (
            "results, no flights that day",
            format!("/flights?from=TBB&to=TAA&date={day}&passengers=1"),
        ),
        (
            "results, not enough free seats",
            format!("/flights?from=TAA&to=TBB&date={day}&passengers=9"),
        ),
        (
            "seat map, signed out",
            format!("/flights/{later}?passengers=2&seats=3A,3B"),
        ),
        ("sign in", "/signin".into()),
        ("sign up", "/signup".into()),
        ("forgot password", "/forgot-password".into()),
        ("reset password", "/reset-password?token=x".into()),
        ("manage booking", "/manage".into()),
        ("not found", "/no-such-page".into()),
    ];
    for (name, path) in &pages {
        findings.visit(&visitor, name, path).await;
    }
    // Manage booking: not found, then found.
    for (last_name, found) in [("Nobody", "#not-found"), ("Rao", "#booking-status")] {
        visitor.goto("/manage").await;
        visitor.fill("#reference", &reference).await;
        visitor.fill("#last_name", last_name).await;
        visitor
            .click("form[action='/manage'] button[type=submit]")
            .await;
        visitor.wait_for(found).await;
        findings
            .check(&visitor, &format!("manage booking, {found}"))
            .await;
    }
    visitor.close().await;

    // A signed-in traveller.
    let traveller = Browser::launch(&app.address).await;
    sign_in(&traveller, &email).await;
    let pages = [
        (
            "seat map",
            format!("/flights/{later}?passengers=2&seats=3A"),
        ),
        ("account", "/account".into()),
        ("my bookings", "/bookings".into()),
        ("booking, pending", format!("/bookings/{pending}")),
        ("booking, confirmed", format!("/bookings/{confirmed}")),
        ("booking, checked in", format!("/bookings/{checked_in}")),
        (
            "boarding passes",
            format!("/bookings/{checked_in}/boarding-passes"),
        ),
        ("forbidden (a customer at /admin)", "/admin".into()),
    ];
    for (name, path) in &pages {
        findings.visit(&traveller, name, path).await;
    }
    // A hold refused with errors beside the fields (names left empty).
    traveller
        .goto(&format!("/flights/{later}?passengers=1"))
        .await;
    // The browser's own check of `required` would stop the post before the server sees it.
    traveller
        .execute(
            "document.querySelectorAll('[required]').forEach(e => e.required = false); return true",
        )
        .await;
    traveller.click("#hold").await;
    traveller.wait_for("#passenger-0-error").await;
    findings.check(&traveller, "seat map with errors").await;
    traveller.close().await;

    // An admin.
    let admin = Browser::launch(&app.address).await;
    sign_in(&admin, &app.admin_email().await).await;
    findings.visit(&admin, "admin home", "/admin").await;
    for section in ["cities", "airports", "airplanes", "flights"] {
        let list = format!("/admin/{section}");
        findings
            .visit(&admin, &format!("admin {section}"), &list)
            .await;
        let edit = href(&admin, ".admin-table td.actions a").await;
        findings
            .visit(&admin, &format!("admin {section}: an entry"), &edit)
            .await;
    }
    let pages = [
        (
            "admin: cancel a flight",
            format!("/admin/flights/{later}/cancel"),
        ),
        (
            "admin: a flight's passengers",
            format!("/admin/flights/{later}/passengers"),
        ),
        ("admin bookings", "/admin/bookings".into()),
        ("admin occupancy", "/admin/occupancy".into()),
    ];
    for (name, path) in &pages {
        findings.visit(&admin, name, path).await;
    }
    admin.close().await;

    assert!(
        findings.problems.is_empty(),
        "axe found violations on {} of {} pages:\n{}",
        findings.problems.len(),
        findings.pages.len(),
        findings.problems.join("\n")
    );
}
