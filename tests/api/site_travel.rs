//! The traveller's pages over plain HTTP: results that say why they are empty and link to the
//! next day, and a signed-out visitor told to sign in before typing names, sent back to the
//! seats they picked.

use reqwest::StatusCode;

use crate::helpers::{bookable_flight, days_ahead, spawn_app};
use crate::site::{customer, Visitor};

#[tokio::test]
async fn results_say_why_they_are_empty_and_link_to_the_days_around() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "SB101").await; // 12 seats, in 10 days
    let visitor = Visitor::new(&app);
    let day = days_ahead(10).date_naive();
    let search = |from: &str, to: &str, passengers: u8| {
        format!("/flights?from={from}&to={to}&date={day}&passengers={passengers}")
    };

    let (status, html) = visitor.page(&search("TAA", "TBB", 1)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&day.format("%a %-d %b").to_string()),
        "a human date"
    );
    let next = (day + chrono::Duration::days(1)).to_string();
    assert!(
        html.contains(&format!("date={next}")),
        "a link to the next day"
    );
    assert!(html.contains("Business"), "business fares are shown");
    assert!(!html.contains("id=\"empty-results\""));

    let (_, html) = visitor.page(&search("TBB", "TAA", 1)).await;
    assert!(html.contains("No flights on this route that day"), "{html}");

    // 12 seats on the flight, 4 held: a party of 9 finds it, but not with enough free seats.
    let token = app.customer_token().await;
    app.created(app.book_assigned(&token, flight, 4).await)
        .await;
    let (_, html) = visitor.page(&search("TAA", "TBB", 9)).await;
    assert!(
        html.contains("None with enough free seats for 9 passengers"),
        "{html}"
    );
    assert!(!html.contains("No flights on this route that day"));
    let (_, html) = visitor.page(&search("TAA", "TBB", 8)).await;
    assert!(html.contains("SB101"), "8 fit: {html}");
}

#[tokio::test]
async fn a_signed_out_visitor_signs_in_before_typing_names_and_keeps_the_seats_picked() {
    let app = spawn_app().await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "SB101").await;
    let visitor = Visitor::new(&app);

    let (status, html) = visitor
        .page(&format!("/flights/{flight}?passengers=2"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Sign in before you book"), "{html}");
    assert!(!html.contains("id=\"passenger-0\""), "no names to type yet");

    // "Sign in to book these seats" submits the seat map as a GET.
    let response = visitor
        .get(&format!(
            "/flights/{flight}/signin?passengers=2&seat=2A&seat=2B"
        ))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = response.headers()["location"].to_str().expect("location");
    let to = reqwest::Url::parse(&format!("http://site{to}")).expect("a URL");
    assert_eq!(to.path(), "/signin");
    let next: Vec<_> = to.query_pairs().filter(|(k, _)| k == "next").collect();
    let back = format!("/flights/{flight}?passengers=2&seats=2A%2C2B");
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].1, back, "back to the seats picked");

    // After signing in, the flight page has those seats picked and asks for names.
    visitor.sign_in(&customer(&app).await).await;
    let (_, html) = visitor.page(&back).await;
    assert!(html.contains("id=\"passenger-1\""), "names, once signed in");
    for seat in ["2A", "2B"] {
        assert!(
            html.contains(&format!("id=\"seat-{seat}\" checked")),
            "{seat} is still picked"
        );
    }
}
