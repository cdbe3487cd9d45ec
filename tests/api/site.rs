//! The website over plain HTTP (cookies, forms, redirects), on every backend: CSRF, sessions,
//! who may see what, error pages, a seat taken meanwhile, admin forms and reports. The
//! browser suite (tests/browser) drives the same pages in Chromium.

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_problem, bookable_flight, spawn_app, unique_email, TestApp, PASSWORD};

/// One browser's worth of cookies.
pub(crate) struct Visitor<'a> {
    app: &'a TestApp,
    client: Client,
}

impl<'a> Visitor<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.app.url(path))
            .send()
            .await
            .expect("request sent")
    }

    pub(crate) async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    /// The CSRF token of the forms on `path`.
    pub(crate) async fn csrf(&self, path: &str) -> String {
        let (status, html) = self.page(path).await;
        assert_eq!(status, StatusCode::OK, "{path} should render");
        csrf_in(&html)
    }

    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.app.url(path))
            .form(fields)
            .send()
            .await
            .expect("request sent")
    }

    pub(crate) async fn sign_in(&self, email: &str) {
        let token = self.csrf("/signin").await;
        let response = self
            .post(
                "/signin",
                &[
                    ("email", email),
                    ("password", PASSWORD),
                    ("csrf_token", &token),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in redirects"
        );
    }
}

pub(crate) fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    let end = html[start..].find('"').expect("closing quote");
    html[start..start + end].to_string()
}

pub(crate) fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn content_type(response: &Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

pub(crate) async fn customer(app: &TestApp) -> String {
    let email = unique_email("site");
    assert_eq!(
        app.sign_up(&email, PASSWORD).await.status(),
        StatusCode::CREATED
    );
    email
}

#[tokio::test]
async fn form_posts_need_a_valid_csrf_token_and_sign_in_sets_a_safe_cookie() {
    let app = spawn_app().await;
    let email = customer(&app).await;
    let visitor = Visitor::new(&app);
    let token = visitor.csrf("/signin").await;
    let credentials = [("email", email.as_str()), ("password", PASSWORD)];

    let missing = visitor.post("/signin", &credentials).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert!(content_type(&missing).starts_with("text/html"));
    assert!(missing.headers().get("set-cookie").is_none());
    assert!(missing
        .text()
        .await
        .expect("body")
        .contains("The form expired"));

    let forged = "00".repeat(32);
    let other = Visitor::new(&app);
    let someone_elses = other.csrf("/signin").await;
    for wrong in [forged.as_str(), "", "not-hex", someone_elses.as_str()] {
        let mut fields = credentials.to_vec();
        fields.push(("csrf_token", wrong));
        let response = visitor.post("/signin", &fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "token {wrong:?}");
    }
    assert_eq!(
        visitor.get("/bookings").await.status(),
        StatusCode::SEE_OTHER
    );

    let mut fields = credentials.to_vec();
    fields.push(("csrf_token", &token));
    fields.push(("next", "/bookings"));
    let signed_in = visitor.post("/signin", &fields).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), "/bookings");
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("skybook_session="))
        .expect("a session cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert_eq!(visitor.get("/bookings").await.status(), StatusCode::OK);

    // The token is bound to the session: the one from before signing in no longer works.
    let stale = visitor.post("/signout", &[("csrf_token", &token)]).await;
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    assert_eq!(visitor.get("/bookings").await.status(), StatusCode::OK);

    let fresh = visitor.csrf("/bookings").await;
    let out = visitor.post("/signout", &[("csrf_token", &fresh)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        visitor.get("/bookings").await.status(),
        StatusCode::SEE_OTHER
    );

    // A wrong password re-renders the form with a message, and sets no session.
    let token = visitor.csrf("/signin").await;
    let wrong = visitor
        .post(
            "/signin",
            &[
                ("email", &email),
                ("password", "wrong password"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong
        .text()
        .await
        .expect("body")
        .contains("The email or the password is wrong"));
}

#[tokio::test]
async fn every_page_masks_the_form_token_afresh_and_each_mask_is_accepted() {
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    let first = visitor.csrf("/signin").await;
    let second = visitor.csrf("/signin").await;
    assert_ne!(first, second, "no two responses repeat the token (BREACH)");
    let flip = |token: &str| {
        let (head, last) = token.split_at(token.len() - 1);
        format!("{head}{}", if last == "0" { "1" } else { "0" })
    };
    let half = first.len() / 2;
    let mixed = format!("{}{}", &first[..half], &second[half..]);
    for (token, expected) in [
        (first.clone(), StatusCode::UNAUTHORIZED),
        (second.clone(), StatusCode::UNAUTHORIZED),
        (first.clone(), StatusCode::UNAUTHORIZED),
        (flip(&first), StatusCode::FORBIDDEN),
        (mixed, StatusCode::FORBIDDEN),
    ] {
        // A wrong password: 401 says the token passed, 403 that it did not.
        let response = visitor
            .post(
                "/signin",
                &[
                    ("email", "nobody@example.com"),
                    ("password", "wrong password"),
                    ("csrf_token", &token),
                ],
            )
            .await;
        assert_eq!(response.status(), expected, "token {token}");
    }
}

#[tokio::test]
async fn signed_out_visitors_go_to_sign_in_and_customers_cannot_use_admin() {
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    for (path, next) in [
        ("/bookings", "/signin?next=%2Fbookings"),
        ("/admin", "/signin?next=%2Fadmin"),
        (
            "/admin/flights?page=2",
            "/signin?next=%2Fadmin%2Fflights%3Fpage%3D2",
        ),
    ] {
        let response = visitor.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), next);
    }

    let email = customer(&app).await;
    visitor.sign_in(&email).await;
    for path in [
        "/admin",
        "/admin/cities",
        "/admin/bookings",
        "/admin/occupancy",
    ] {
        let response = visitor.get(path).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(content_type(&response).starts_with("text/html"));
    }
    let token = visitor.csrf("/bookings").await;
    let response = visitor
        .post(
            "/admin/cities",
            &[
                ("name", "Sneaky"),
                ("country_code", "IN"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let cities: Value = app
        .get("/api/v1/cities", None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(cities["total"], 0, "nothing was created");
}

#[tokio::test]
async fn errors_are_pages_on_the_site_and_problem_documents_on_the_api() {
    let app = spawn_app().await;
    let visitor = Visitor::new(&app);
    for path in ["/flights/999999", "/flights/abc", "/no/such/page"] {
        let response = visitor.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(content_type(&response).starts_with("text/html"), "{path}");
        assert!(response.text().await.expect("body").contains("Not found"));
    }
    assert_problem(
        app.get("/api/v1/flights/999999", None).await,
        404,
        "not_found",
    )
    .await;

    let (status, html) = visitor.page("/flights?from=DE1&to=&date=tomorrow").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"from-error\""), "from is wrong");
    assert!(html.contains("id=\"to-error\""), "to is missing");
    assert!(html.contains("id=\"date-error\""), "date is wrong");
    assert!(html.contains("must be a date, YYYY-MM-DD"));
}

#[tokio::test]
async fn a_seat_taken_meanwhile_is_reported_on_the_seat_map_keeping_the_input() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "SB100").await;
    let visitor = Visitor::new(&app);
    visitor.sign_in(&customer(&app).await).await;
    let page = format!("/flights/{flight}?passengers=1");
    let (status, html) = visitor.page(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"seat-2C\""));
    let token = csrf_in(&html);

    // Someone else takes 2C between page load and submit.
    let rival = app.customer_token().await;
    assert_eq!(
        app.book(&rival, flight, &["2C"]).await.status(),
        StatusCode::CREATED
    );

    let hold = format!("/flights/{flight}/hold");
    let response = visitor
        .post(
            &hold,
            &[
                ("seat", "2C"),
                ("passenger", "Bea Traveller"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.expect("body");
    assert!(
        html.contains("seat 2C was just taken"),
        "the message names the seat"
    );
    assert!(html.contains("value=\"Bea Traveller\""), "the name is kept");
    assert!(
        html.contains("id=\"seat-2C\"  disabled") || html.contains("id=\"seat-2C\" disabled"),
        "2C is shown taken"
    );
    assert!(
        html.contains("class=\"seatmap\""),
        "it is the seat map, not an error page"
    );

    let response = visitor
        .post(
            &hold,
            &[
                ("seat", "2D"),
                ("passenger", "Bea Traveller"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let booking_page = location(&response);
    assert!(booking_page.starts_with("/bookings/"));
    let (status, html) = visitor.page(&booking_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("pending"));
    assert!(html.contains("Bea Traveller"));
    assert!(html.contains("data-countdown"));

    // A missing name is shown beside its field, with the choice of seat kept.
    let response = visitor
        .post(
            &hold,
            &[("seat", "3A"), ("passenger", " "), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("body");
    assert!(html.contains("id=\"passenger-0-error\""));
    assert!(html.contains("id=\"seat-3A\" checked"));
}

#[tokio::test]
async fn paying_and_cancelling_through_the_booking_page() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "SB200").await;
    let visitor = Visitor::new(&app);
    visitor.sign_in(&customer(&app).await).await;
    let (_, html) = visitor
        .page(&format!("/flights/{flight}?passengers=2"))
        .await;
    let token = csrf_in(&html);
    let response = visitor
        .post(
            &format!("/flights/{flight}/hold"),
            &[
                ("seat", "2A"),
                ("seat", "2B"),
                ("passenger", "Ann One"),
                ("passenger", "Bob Two"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = location(&response);
    let id = page.trim_start_matches("/bookings/").to_string();
    let (_, html) = visitor.page(&page).await;
    assert!(
        html.contains("INR 2,000.00"),
        "two economy seats at 1,000.00"
    );
    let key_marker = "name=\"idempotency_key\" value=\"";
    let start = html.find(key_marker).expect("a key") + key_marker.len();
    let key = html[start..start + 36].to_string();

    let declined = visitor
        .post(
            &format!("/bookings/{id}/pay"),
            &[
                ("payment_method", "pm_card_declined"),
                ("idempotency_key", "declined-1"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(declined.status(), StatusCode::PAYMENT_REQUIRED);
    assert!(declined
        .text()
        .await
        .expect("body")
        .contains("Payment failed"));

    // The same form submitted twice pays once.
    for _ in 0..2 {
        let paid = visitor
            .post(
                &format!("/bookings/{id}/pay"),
                &[
                    ("payment_method", "pm_card_ok"),
                    ("idempotency_key", &key),
                    ("csrf_token", &token),
                ],
            )
            .await;
        assert_eq!(paid.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&paid), format!("/bookings/{id}?notice=paid"));
    }
    let (_, html) = visitor.page(&format!("/bookings/{id}?notice=paid")).await;
    assert!(html.contains("id=\"booking-status\">confirmed"));
    assert!(html.contains("Payment received"));
    let charges = sqlx_count(
        &app,
        "SELECT COUNT(*) FROM sandbox_charges WHERE kind = 'charge'",
    )
    .await;
    assert_eq!(charges, 1, "one charge for two submits");

    let (_, html) = visitor.page("/bookings").await;
    assert!(html.contains(&format!("href=\"/bookings/{id}\"")));

    let cancelled = visitor
        .post(&format!("/bookings/{id}/cancel"), &[("csrf_token", &token)])
        .await;
    assert_eq!(cancelled.status(), StatusCode::SEE_OTHER);
    let (_, html) = visitor.page(&format!("/bookings/{id}")).await;
    assert!(html.contains("id=\"booking-status\">cancelled"));
}

async fn sqlx_count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.writer.get_database_backend();
    let row = app
        .db
        .writer
        .query_one(Statement::from_string(backend, sql.to_string()))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a count")
}

#[tokio::test]
async fn admin_forms_create_entries_and_show_the_api_validation_beside_fields() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let visitor = Visitor::new(&app);
    visitor.sign_in(&app.admin_email().await).await;
    let token = visitor.csrf("/admin/airports").await;
    let response = visitor
        .post(
            "/admin/airports",
            &[
                ("code", "X1"),
                ("name", "Nowhere"),
                ("city_id", "abc"),
                ("timezone", "Mars/Base"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("body");
    for field in ["code", "city_id", "timezone"] {
        assert!(
            html.contains(&format!("id=\"f-{field}-error\"")),
            "{field} error shown"
        );
    }
    assert!(!html.contains("id=\"f-name-error\""), "name was fine");
    assert!(html.contains("value=\"Nowhere\""), "typed values are kept");

    let city = catalog.city_id.to_string();
    let response = visitor
        .post(
            "/admin/airports",
            &[
                ("code", "ZZQ"),
                ("name", "Zed Field"),
                ("city_id", &city),
                ("timezone", "Asia/Kolkata"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/airports?notice=created");
    let (_, html) = visitor.page("/admin/airports?notice=created").await;
    assert!(html.contains("Zed Field"));

    let again = visitor
        .post(
            "/admin/airports",
            &[
                ("code", "ZZQ"),
                ("name", "Zed Field"),
                ("city_id", &city),
                ("timezone", "Asia/Kolkata"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.expect("body").contains("already exists"));
}

#[tokio::test]
async fn occupancy_and_booking_filters_show_exact_counts() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "SB300").await;
    let payer = app.customer_token().await;
    let paid: Value = app
        .book(&payer, flight, &["2A", "2B"])
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        app.pay(&payer, &paid, "occupancy-1", "pm_card_ok")
            .await
            .status(),
        StatusCode::CREATED
    );
    let holder = app.customer_token().await;
    let held: Value = app
        .book(&holder, flight, &["3D"])
        .await
        .json()
        .await
        .expect("JSON");

    let visitor = Visitor::new(&app);
    visitor.sign_in(&app.admin_email().await).await;
    let (status, html) = visitor.page("/admin/occupancy").await;
    assert_eq!(status, StatusCode::OK);
    let row_start = html
        .find(&format!("id=\"occupancy-{flight}\""))
        .expect("the flight's row");
    let row = &html[row_start..row_start + html[row_start..].find("</tr>").expect("row end")];
    assert!(row.contains("<td>12</td>"), "{row}");
    assert!(row.contains("<td class=\"booked\">2</td>"), "{row}");
    assert!(row.contains("<td class=\"held\">1</td>"), "{row}");
    assert!(row.contains("<td class=\"free\">9</td>"), "{row}");

    let paid_ref = paid["reference"].as_str().expect("reference");
    let held_ref = held["reference"].as_str().expect("reference");
    let (_, html) = visitor
        .page(&format!(
            "/admin/bookings?status=confirmed&flight_id={flight}"
        ))
        .await;
    assert!(html.contains(paid_ref) && !html.contains(held_ref));
    let (_, html) = visitor.page("/admin/bookings?status=pending").await;
    assert!(html.contains(held_ref) && !html.contains(paid_ref));
    let (_, html) = visitor
        .page(&format!(
            "/admin/bookings?reference={}",
            held_ref.to_lowercase()
        ))
        .await;
    assert!(html.contains(held_ref) && !html.contains(paid_ref));
    // A pending booking whose hold ran out before the sweeper saw it counts as expired.
    let lapsing: Value = app
        .book(&holder, flight, &["3C"])
        .await
        .json()
        .await
        .expect("JSON");
    let lapsed_ref = lapsing["reference"].as_str().expect("reference");
    {
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use skybook::models::booking::booking;
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
        booking::Entity::update_many()
            .col_expr(booking::Column::ExpiresAt, Expr::value(past))
            .filter(booking::Column::Id.eq(lapsing["id"].as_i64().expect("id") as i32))
            .exec(&app.db.writer)
            .await
            .expect("hold shortened");
    }
    let (_, html) = visitor.page("/admin/bookings?status=expired").await;
    assert!(
        html.contains(lapsed_ref),
        "the lapsed hold is listed as expired"
    );
    assert!(!html.contains(held_ref) && !html.contains(paid_ref));
    let (_, html) = visitor.page("/admin/bookings?status=pending").await;
    assert!(!html.contains(lapsed_ref), "and no longer as pending");

    let (status, html) = visitor
        .page("/admin/bookings?status=lost&flight_id=x")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"status-error\"") && html.contains("id=\"flight_id-error\""));
}

#[tokio::test]
async fn admins_edit_and_delete_catalog_entries_and_see_why_a_delete_is_refused() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let visitor = Visitor::new(&app);
    visitor.sign_in(&app.admin_email().await).await;
    let city = catalog.city_id;
    let (status, html) = visitor.page(&format!("/admin/cities/{city}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("value=\"Testville\""),
        "the form shows the stored values"
    );
    let token = csrf_in(&html);

    let bad = visitor
        .post(
            &format!("/admin/cities/{city}"),
            &[
                ("name", "Testburg"),
                ("country_code", "XX"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad
        .text()
        .await
        .expect("body")
        .contains("id=\"f-country_code-error\""));

    let saved = visitor
        .post(
            &format!("/admin/cities/{city}"),
            &[
                ("name", "Testburg"),
                ("country_code", "IN"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let stored: Value = app
        .get(&format!("/api/v1/cities/{city}"), None)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(stored["name"], "Testburg");

    // The city has airports: the delete is refused with the reason, and nothing is lost.
    let refused = visitor
        .post(
            &format!("/admin/cities/{city}/delete"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused
        .text()
        .await
        .expect("body")
        .contains("id=\"notice\""));
    assert_eq!(
        app.get(&format!("/api/v1/cities/{city}"), None)
            .await
            .status(),
        StatusCode::OK
    );

    let token = visitor.csrf("/admin/cities").await;
    let empty = visitor
        .post(
            "/admin/cities",
            &[
                ("name", "Emptyville"),
                ("country_code", "FR"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(empty.status(), StatusCode::SEE_OTHER);
    let list: Value = app
        .get("/api/v1/cities", None)
        .await
        .json()
        .await
        .expect("JSON");
    let emptyville = list["data"]
        .as_array()
        .expect("cities")
        .iter()
        .find(|c| c["name"] == "Emptyville")
        .expect("created")["id"]
        .as_i64()
        .expect("id");
    let deleted = visitor
        .post(
            &format!("/admin/cities/{emptyville}/delete"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/api/v1/cities/{emptyville}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn signing_in_on_the_website_shares_the_api_sign_in_budget() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.rate_limit_enabled = true;
        settings.auth_rate_limit_per_minute = 2;
    })
    .await;
    let email = unique_email("budget");
    // The sign-up spends one of the two.
    assert_eq!(
        app.sign_up(&email, PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let visitor = Visitor::new(&app);
    let token = visitor.csrf("/signin").await;
    let fields = [
        ("email", email.as_str()),
        ("password", PASSWORD),
        ("csrf_token", &token),
    ];
    assert_eq!(
        visitor.post("/signin", &fields).await.status(),
        StatusCode::SEE_OTHER
    );
    let refused = visitor.post("/signin", &fields).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(content_type(&refused).starts_with("text/html"));
    // Pages other than sign-in and sign-up are not on that budget.
    assert_eq!(visitor.get("/").await.status(), StatusCode::OK);
}
