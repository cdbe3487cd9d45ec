use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, unique_email};

#[tokio::test]
async fn sign_in_and_sign_up_share_one_budget_per_client() {
    let app = spawn_app_with(|s| {
        s.rate_limit_enabled = true;
        s.auth_rate_limit_per_minute = 3;
    })
    .await;
    let email = unique_email("limited");
    let wrong = json!({"email": email, "password": "wrong password"});
    assert_eq!(
        app.post("/api/v1/auth/signin", None, &wrong).await.status(),
        401
    );
    assert_eq!(
        app.post("/api/v1/auth/signin", None, &wrong).await.status(),
        401
    );
    assert_eq!(app.sign_up(&email, "not-a-common-pass").await.status(), 201);
    let limited = app
        .sign_up(&unique_email("more"), "not-a-common-pass")
        .await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_problem(limited, 429, "rate_limited").await;
    // The general budget is separate: reads still work.
    assert_eq!(app.get("/api/v1/cities", None).await.status(), 200);
}

#[tokio::test]
async fn forwarding_headers_from_untrusted_peers_do_not_buy_a_fresh_budget() {
    let app = spawn_app_with(|s| {
        s.rate_limit_enabled = true;
        s.auth_rate_limit_per_minute = 2;
    })
    .await;
    let wrong = json!({"email": "x@example.com", "password": "wrong password"});
    for n in 0..3 {
        let response = app
            .client
            .post(app.url("/api/v1/auth/signin"))
            .header("X-Forwarded-For", format!("203.0.113.{n}"))
            .header("X-Real-IP", format!("198.51.100.{n}"))
            .json(&wrong)
            .send()
            .await
            .expect("sent");
        let expected = if n < 2 { 401 } else { 429 };
        assert_eq!(response.status(), expected, "attempt {n}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let app = spawn_app_with(|s| {
        s.rate_limit_enabled = true;
        s.auth_rate_limit_per_minute = 1;
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    let wrong = json!({"email": "x@example.com", "password": "wrong password"});
    let attempt = |client_ip: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/signin"))
            .header("X-Forwarded-For", client_ip)
            .json(&wrong)
            .send()
    };
    assert_eq!(attempt("203.0.113.1").await.expect("sent").status(), 401);
    assert_eq!(attempt("203.0.113.1").await.expect("sent").status(), 429);
    assert_eq!(attempt("203.0.113.2").await.expect("sent").status(), 401);
}

#[tokio::test]
async fn the_general_limit_applies_to_the_whole_api() {
    let app = spawn_app_with(|s| {
        s.rate_limit_enabled = true;
        s.rate_limit_per_second = 1;
        s.rate_limit_burst = 5;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.get("/api/v1/cities", None).await.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        app.get("/health/live", None).await.status(),
        200,
        "health checks are not limited"
    );
}

#[tokio::test]
async fn a_forwarded_for_line_the_client_wrote_does_not_change_its_key() {
    let app = spawn_app_with(|s| {
        s.rate_limit_enabled = true;
        s.auth_rate_limit_per_minute = 2;
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    let wrong = json!({"email": "x@example.com", "password": "wrong password"});
    let mut statuses = Vec::new();
    for n in 0..4 {
        // The client's own line first; the proxy (HAProxy's `option forwardfor`) adds a
        // second line with the address it saw.
        let response = app
            .client
            .post(app.url("/api/v1/auth/signin"))
            .header("X-Forwarded-For", format!("198.51.100.{n}"))
            .header("X-Forwarded-For", "203.0.113.7")
            .json(&wrong)
            .send()
            .await
            .expect("sent");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 429, 429]);
    // Another client behind the same proxy still has its budget.
    let other = app
        .client
        .post(app.url("/api/v1/auth/signin"))
        .header("X-Forwarded-For", "198.51.100.0, 203.0.113.8")
        .json(&wrong)
        .send()
        .await
        .expect("sent");
    assert_eq!(other.status(), 401);
}

#[tokio::test]
async fn ipv6_clients_have_one_budget_per_64() {
    let app = spawn_app_with(|s| {
        s.rate_limit_enabled = true;
        s.auth_rate_limit_per_minute = 1;
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    let wrong = json!({"email": "x@example.com", "password": "wrong password"});
    let attempt = |client: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/signin"))
            .header("X-Forwarded-For", client)
            .json(&wrong)
            .send()
    };
    assert_eq!(
        attempt("2001:db8:1:2::1").await.expect("sent").status(),
        401
    );
    assert_eq!(
        attempt("2001:db8:1:2:aaaa:bbbb:cccc:dddd")
            .await
            .expect("sent")
            .status(),
        429,
        "same /64"
    );
    assert_eq!(
        attempt("2001:db8:1:3::1").await.expect("sent").status(),
        401
    );
}

/// The `Secure` flag of the CSRF seed cookie a first page sets.
async fn seed_cookie_is_secure(app: &crate::helpers::TestApp, header: (&str, &str)) -> bool {
    let response = app
        .client
        .get(app.url("/signin"))
        .header(header.0, header.1)
        .send()
        .await
        .expect("sent");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("skybook_csrf="))
        .expect("a seed cookie")
        .to_string();
    cookie.contains("Secure")
}

#[tokio::test]
async fn only_a_trusted_proxy_can_say_the_client_used_https() {
    let claims = [
        ("X-Forwarded-Proto", "https"),
        ("Forwarded", "for=203.0.113.7;proto=https"),
    ];
    let direct = spawn_app().await;
    for claim in claims {
        assert!(
            !seed_cookie_is_secure(&direct, claim).await,
            "untrusted {claim:?}"
        );
    }
    let proxied = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    for claim in claims {
        assert!(
            seed_cookie_is_secure(&proxied, claim).await,
            "trusted {claim:?}"
        );
    }
    assert!(!seed_cookie_is_secure(&proxied, ("X-Forwarded-Proto", "http")).await);
}
