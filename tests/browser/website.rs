//! The website in Chromium: a traveller's whole journey, a second browser losing the same
//! seat, an admin creating an airport and a flight through the forms, and a form posted
//! without its CSRF token. Screenshots of the main pages go to docs/screenshots/.

use crate::harness::Browser;
use crate::helpers::{
    days_ahead, spawn_app, spawn_app_with, status_and_json, unique_email, TestApp, PASSWORD,
};

/// Sets a `<select>` or a date input the way a person's choice would, and fires `change`.
async fn choose(browser: &Browser, css: &str, value: &str) {
    browser.wait_for(css).await;
    browser
        .execute(&format!(
            "const e = document.querySelector({css:?}); e.value = {value:?}; \
             e.dispatchEvent(new Event('change', {{bubbles: true}})); return e.value"
        ))
        .await;
}

/// Chooses the `<select>`'s option whose text is `label` (or starts with it).
async fn choose_by_text(browser: &Browser, css: &str, label: &str) {
    browser.wait_for(css).await;
    let value = browser
        .execute(&format!(
            "const e = document.querySelector({css:?}); \
             const o = Array.from(e.options).find(o => o.text.trim().startsWith({label:?})); \
             if (!o) return null; e.value = o.value; \
             e.dispatchEvent(new Event('change', {{bubbles: true}})); return e.value"
        ))
        .await;
    assert!(!value.is_null(), "{css} has no option {label:?}");
}

async fn sign_up(browser: &Browser, name: &str) -> String {
    let email = unique_email("browser");
    browser.goto("/signup").await;
    browser.fill("#name", name).await;
    browser.fill("#email", &email).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/signup'] button[type=submit]")
        .await;
    browser.wait_for_path("/").await;
    let header = browser.text(".site-header").await;
    assert!(header.contains(name), "signed in as {name}: {header}");
    email
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

/// An app with the demo catalog, as a first start with SKYBOOK_DEMO_DATA=true makes it: the
/// screenshots in the README show real routes and schedules.
async fn demo_app() -> TestApp {
    spawn_app_with(|settings| settings.demo_data = true).await
}

/// Tomorrow in India (the demo's New Delhi → Mumbai flights all depart after now).
fn tomorrow_in_india() -> String {
    (chrono::Utc::now() + chrono::Duration::days(1))
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .format("%Y-%m-%d")
        .to_string()
}

/// The id of the demo flight `number` on `date`, through the public search API.
async fn demo_flight(app: &TestApp, from: &str, to: &str, date: &str, number: &str) -> i64 {
    let (status, found) = status_and_json(
        app.get(
            &format!("/api/v1/flights?from={from}&to={to}&date={date}&per_page=50"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{found}");
    found["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|f| f["flight_number"] == number)
        .unwrap_or_else(|| panic!("no {number} from {from} to {to} on {date}: {found}"))["id"]
        .as_i64()
        .expect("id")
}

async fn checked_seats(browser: &Browser) -> serde_json::Value {
    browser
        .execute("return Array.from(document.querySelectorAll('input[name=seat]:checked')).map(e => e.value).join(',')")
        .await
}

/// Scrolls `css` to the top of the viewport (for screenshots of a long cabin).
async fn scroll_to(browser: &Browser, css: &str) {
    browser
        .execute(&format!(
            "document.querySelector({css:?}).scrollIntoView({{block: 'start'}}); return true"
        ))
        .await;
}

#[tokio::test]
async fn a_traveller_books_and_pays_and_a_second_browser_cannot_take_the_same_seat() {
    let app = demo_app().await;
    let date = tomorrow_in_india();
    let flight = demo_flight(&app, "DEL", "BOM", &date, "AI805").await;
    let (traveller, rival) =
        tokio::join!(Browser::launch(&app.address), Browser::launch(&app.address));

    sign_up(&traveller, "Asha Rao").await;

    // Search from the home page's form.
    traveller.screenshot("home").await;
    choose(&traveller, "#from", "DEL").await;
    choose(&traveller, "#to", "BOM").await;
    choose(&traveller, "#date", &date).await;
    traveller.fill("#passengers", "2").await;
    traveller.click("form.search button[type=submit]").await;
    traveller.wait_for_path("/flights").await;
    let results = traveller.text(".flights").await;
    // The demo schedule: six a day on New Delhi → Mumbai, in local time, both fares shown.
    assert_eq!(
        traveller
            .execute("return document.querySelectorAll('.flight-card').length")
            .await,
        6,
        "{results}"
    );
    assert!(results.contains("AI805"), "{results}");
    assert!(results.contains("07:00"), "local departure time: {results}");
    assert!(results.contains("Business"), "{results}");
    let day = traveller.text("#results-day").await;
    let expected = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .expect("date")
        .format("%a %-d %b")
        .to_string();
    assert_eq!(day, expected, "a date people read");
    assert!(traveller.exists(".day-nav a[rel=next]").await);
    traveller.screenshot("results").await;

    // The rival, signed out, picks the same seat and is told to sign in before typing names;
    // creating an account brings them back to the seat they picked.
    rival.goto(&format!("/flights/{flight}?passengers=1")).await;
    rival.click("label[for='seat-4A']").await;
    let notice = rival.text("#signin-first").await;
    assert!(notice.contains("Sign in before you book"), "{notice}");
    assert!(
        !rival.exists("#passenger-0").await,
        "no names before signing in"
    );
    scroll_to(&rival, ".cabin").await;
    rival.screenshot("seat-map-signed-out").await;
    rival.click("#signin-to-book").await;
    rival.wait_for_path("/signin").await;
    rival.click("main a[href^='/signup']").await;
    rival.wait_for_path("/signup").await;
    let rival_name = "Ravi Kumar";
    rival.fill("#name", rival_name).await;
    rival.fill("#email", &unique_email("rival")).await;
    rival.fill("#password", PASSWORD).await;
    rival
        .click("form[action='/signup'] button[type=submit]")
        .await;
    rival.wait_for_path(&format!("/flights/{flight}")).await;
    rival.wait_for("#passenger-0").await;
    assert_eq!(checked_seats(&rival).await, "4A", "the seat picked before");
    rival.fill("#passenger-0", rival_name).await;

    traveller
        .click(".flight-card a.button[aria-label*='AI805']")
        .await;
    traveller.wait_for_path(&format!("/flights/{flight}")).await;
    traveller.click("label[for='seat-4A']").await;
    // The seat map works from the keyboard: seats are real checkboxes (Space toggles).
    let seat = traveller.wait_for("#seat-4B").await;
    seat.send_keys(" ").await.expect("press Space on seat 4B");
    traveller.fill("#passenger-0", "Asha Rao").await;
    traveller.fill("#passenger-1", "Dev Rao").await;
    assert_eq!(checked_seats(&traveller).await, "4A,4B");
    // Every seat shows its price; business seats are in a section of their own.
    assert_eq!(
        traveller.text("label[for='seat-4C'] .seat-price").await,
        "5.5k"
    );
    assert!(traveller
        .text("#cabin-business")
        .await
        .starts_with("Business"));
    scroll_to(&traveller, ".cabin").await;
    traveller.screenshot("seat-map").await;
    traveller.click("#hold").await;
    traveller.wait_for(".reference").await;
    assert!(traveller.current_path().await.starts_with("/bookings/"));
    assert_eq!(
        traveller.text("#booking-status").await.to_lowercase(),
        "pending"
    );
    let countdown = traveller.text("[data-countdown-text]").await;
    assert!(countdown.contains("min"), "countdown: {countdown}");
    let reference = traveller.text("h1 .reference").await;
    traveller.screenshot("booking").await;

    // The rival submits the seat the traveller now holds.
    rival.click("#hold").await;
    // Read from the answer's page: the seat map's message area is on the page before it too.
    let message = rival.wait_for_text("#seat-message", "was just taken").await;
    assert!(
        message.contains("seat 4A was just taken"),
        "the rival is told: {message}"
    );
    // The seat map is shown again in answer to the post, not as an error page.
    assert!(rival.exists(".cabin").await);
    let name_kept = rival
        .execute("return document.querySelector('#passenger-0').value")
        .await;
    assert_eq!(name_kept, rival_name);
    let taken = rival
        .execute("return document.querySelector('#seat-4A').disabled")
        .await;
    assert_eq!(taken, true);
    rival.screenshot("seat-taken").await;

    // Pay with the approved test card (the first method, chosen by default).
    traveller.click("#pay").await;
    let notice = traveller.wait_for_text("#notice", "Payment received").await;
    assert!(notice.contains("Payment received"), "{notice}");
    assert_eq!(
        traveller.text("#booking-status").await.to_lowercase(),
        "confirmed"
    );
    traveller.screenshot("confirmed").await;

    traveller.click(".site-header a[href='/bookings']").await;
    traveller.wait_for_path("/bookings").await;
    let mine = traveller.text(".bookings").await;
    assert!(mine.contains(&reference), "{mine}");
    assert!(mine.to_lowercase().contains("confirmed"), "{mine}");
    traveller.screenshot("my-bookings").await;

    traveller.close().await;
    rival.close().await;
}

#[tokio::test]
async fn an_admin_creates_an_airport_and_a_flight_through_the_forms() {
    let app = demo_app().await;
    let admin = Browser::launch(&app.address).await;
    sign_in(&admin, &app.admin_email().await).await;

    admin.goto("/admin/airports").await;
    admin.click("details.create summary").await;
    // First with a bad code: the API's rule is shown beside the field.
    admin.fill("#f-code", "N9").await;
    admin.fill("#f-name", "Navi Mumbai International").await;
    choose_by_text(&admin, "#f-city_id", "Mumbai").await;
    admin.fill("#f-timezone", "Asia/Kolkata").await;
    admin.click(".entity-form button[type=submit]").await;
    let error = admin.text("#f-code-error").await;
    assert!(
        error.contains("IATA") || error.contains("letters"),
        "{error}"
    );
    assert_eq!(
        admin
            .execute("return document.querySelector('#f-name').value")
            .await,
        "Navi Mumbai International"
    );
    admin.screenshot("admin-validation").await;
    admin.fill("#f-code", "NMI").await;
    admin.click(".entity-form button[type=submit]").await;
    // The page before it (the refused form) has a notice of its own.
    assert_eq!(admin.wait_for_text("#notice", "Created.").await, "Created.");

    admin.goto("/admin/flights").await;
    admin.click("details.create summary").await;
    admin.fill("#f-flight_number", "6E801").await;
    choose_by_text(&admin, "#f-airplane_id", "Airbus A320neo").await;
    choose(&admin, "#f-departure_airport", "NMI").await;
    choose(&admin, "#f-arrival_airport", "DEL").await;
    let day = days_ahead(20).format("%Y-%m-%d").to_string();
    choose(&admin, "#f-departure_time", &format!("{day}T08:00")).await;
    choose(&admin, "#f-arrival_time", &format!("{day}T10:15")).await;
    admin.fill("#f-price_economy", "450000").await;
    admin.fill("#f-price_business", "1200000").await;
    admin.fill("#f-currency", "INR").await;
    admin.click(".entity-form button[type=submit]").await;
    assert_eq!(admin.wait_for_text("#notice", "Created.").await, "Created.");
    // The first page lists the flights still to depart, earliest first (which ones depends on
    // the hour the test runs: the demo schedule starts today).
    let departures = admin
        .execute(
            "return Array.from(document.querySelectorAll('.admin-table tbody tr'))\
             .map(row => row.cells[4].textContent)",
        )
        .await;
    let departures: Vec<String> = serde_json::from_value(departures).expect("departure cells");
    assert!(departures.len() >= 10, "{departures:?}");
    assert!(departures.is_sorted(), "{departures:?}");
    let a_minute_ago = (chrono::Utc::now() - chrono::Duration::minutes(1))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert!(departures[0] >= a_minute_ago, "{departures:?}");
    admin.screenshot("admin-flights").await;

    // The new flight is on sale: travellers find it, at its price.
    admin
        .goto(&format!("/flights?from=NMI&to=DEL&date={day}&passengers=1"))
        .await;
    let found = admin.text(".flights").await;
    assert!(found.contains("6E801"), "{found}");
    assert!(found.contains("INR 4,500.00"), "{found}");

    admin.goto("/admin/occupancy").await;
    admin.wait_for(".admin-table").await;
    admin.screenshot("admin-occupancy").await;
    admin.close().await;
}

#[tokio::test]
async fn a_form_posted_without_its_csrf_token_is_refused() {
    let app = spawn_app().await;
    let browser = Browser::launch(&app.address).await;
    let name = "Mira Shah";
    sign_up(&browser, name).await;
    // A forged sign-out: the same form, its token removed.
    browser
        .execute(
            "document.querySelector('form.signout input[name=csrf_token]').remove(); return true",
        )
        .await;
    browser.click("form.signout button[type=submit]").await;
    // Waits for the answer's page: until it arrives, `main h1` is the old page's heading.
    let heading = browser.wait_for_text("main h1", "The form expired").await;
    assert_eq!(heading, "The form expired");
    assert_eq!(browser.text(".status-code").await, "403");
    // Still signed in: the forged post changed nothing.
    browser.goto("/bookings").await;
    assert_eq!(browser.current_path().await, "/bookings");
    assert!(browser.text(".site-header").await.contains(name));
    browser.close().await;
}

#[tokio::test]
async fn an_admin_cancels_a_flight_through_its_confirm_step() {
    let app = demo_app().await;
    let flight = demo_flight(&app, "DEL", "BOM", &tomorrow_in_india(), "UK955").await;
    let token = app.customer_token().await;
    let booking = app.created(app.book(&token, flight, &["4A"]).await).await;
    app.created(app.pay(&token, &booking, "browser-op", "pm_card_ok").await)
        .await;
    let admin = Browser::launch(&app.address).await;
    sign_in(&admin, &app.admin_email().await).await;

    admin.goto(&format!("/admin/flights/{flight}")).await;
    admin.click("#cancel-flight-link").await;
    admin
        .wait_for_path(&format!("/admin/flights/{flight}/cancel"))
        .await;
    let impact = admin.text("#impact").await;
    assert!(impact.contains("1 confirmed booking"), "{impact}");
    assert!(impact.contains("INR 5,775.00"), "{impact}");
    admin.fill("#reason", "Aircraft unserviceable").await;
    admin.screenshot("admin-cancel-flight").await;
    admin.click("#confirm-cancel").await;
    admin
        .wait_for_text("#notice", "The flight is cancelled")
        .await;
    assert_eq!(admin.text("#refunds-made").await, "1 (INR 5,775.00)");
    assert!(!admin.exists("#cancel-flight-link").await);

    admin.click("#passengers-link").await;
    admin
        .wait_for_path(&format!("/admin/flights/{flight}/passengers"))
        .await;
    let list = admin.text("#passengers").await;
    assert!(list.contains("Passenger 0"), "{list}");
    assert!(list.to_lowercase().contains("cancelled"), "{list}");

    admin.goto(&format!("/flights/{flight}")).await;
    let said = admin.text("#flight-cancelled").await;
    assert!(said.contains("Aircraft unserviceable"), "{said}");
    assert!(!admin.exists("form.hold").await, "no seat selection");
    admin.close().await;
}
